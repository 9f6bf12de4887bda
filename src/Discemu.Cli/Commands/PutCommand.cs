using System.Buffers;
using System.CommandLine;
using Discemu.FileSystems;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>put [-r] HOSTPATH... IMAGE[:N]:/dest</c>: copies host files (and with -r directory trees) into the file
/// system of an image, keeping modification times. An existing file is replaced only once the new copy is complete.
/// </summary>
internal static class PutCommand
{
    private const int Chunk = 1 << 20;

    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var recursive = new Option<bool>("-r", "-R", "--recursive") { Description = "Copy directories and their content" };
        var sources = new Argument<string[]>("HOSTPATH") { Description = "Host files or directories", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("put", "Copy host files into the file system of an image") { recursive, sources };
        common.AddTo(cmd);
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var all = parse.GetValue(sources)!;
            if (all.Length < 2) throw new BadArgumentException("put needs HOSTPATH... and IMAGE[:N]:/destination.");
            var arg = ImagePathArgument.Parse(all[^1]);
            var (opened, fs) = FsEdit.OpenWritable(ctx, parse, common, arg);
            using (opened)
            {
                var destEntry = opened.FileSystem.TryLookup(arg.InnerPath);
                bool intoDir = destEntry is { IsDirectory: true };
                if (!intoDir && all.Length > 2) throw new BadArgumentException("With several sources the destination must be a directory.", opened.FileSystem.DescribePath(arg.InnerPath));
                var buffer = ArrayPool<byte>.Shared.Rent(Chunk);
                fs.WriteBack = true; // metadata of the new files is written once, in a crash-safe order, by Flush
                try
                {
                    foreach (var src in all[..^1])
                    {
                        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(src));
                        string target = intoDir ? FsEdit.Join(arg.InnerPath, name) : arg.InnerPath;
                        if (Directory.Exists(src))
                        {
                            if (!parse.GetValue(recursive)) throw new BadArgumentException($"'{src}' is a directory (use -r).");
                            PutTree(opened.FileSystem, fs, src, target, buffer);
                        }
                        else PutFile(opened.FileSystem, fs, src, target, buffer);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    fs.Flush();
                }
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// Copies a host tree: a second thread lists it and reads small files ahead (<see cref="HostTreeReader"/>) while
    /// this one writes them, in the same order as a walk on one thread.
    /// </summary>
    private static void PutTree(FileSystem view, IWritableFileSystem fs, string hostDir, string target, byte[] buffer)
    {
        using var reader = new HostTreeReader(hostDir);
        var targets = new Stack<(string Path, bool Fresh)>();
        foreach (var item in reader.Items)
        {
            switch (item.Kind)
            {
                case HostItemKind.EnterDirectory:
                    {
                        string path = targets.Count == 0 ? target : FsEdit.Join(targets.Peek().Path, item.Name);
                        var existing = view.TryLookup(path);
                        if (existing is null) fs.CreateDirectory(path, item.Times);
                        else if (!existing.IsDirectory) throw new BadArgumentException("A file is in the way of a directory.", view.DescribePath(path));
                        targets.Push((path, existing is null));
                        break;
                    }
                case HostItemKind.File:
                    try
                    {
                        var (dir, fresh) = targets.Peek();
                        string path = FsEdit.Join(dir, item.Name);
                        // In a directory this put created, a name is normally free: create the file straight away.
                        // Should it clash after all (host names equal but for case, or equal to an 8.3 alias), the
                        // create changes nothing and the general path below replaces the earlier file.
                        if (fresh && item.Content is { } content && TryCreate(fs, path, content.AsSpan(0, item.ContentLength), item.Times)) break;
                        PutFile(view, fs, item, path, buffer);
                    }
                    finally
                    {
                        reader.Return(item);
                    }
                    break;
                case HostItemKind.LeaveDirectory:
                    fs.SetTimes(targets.Pop().Path, item.Times);
                    break;
                default:
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(item.Error!);
                    break;
            }
        }
    }

    /// <summary>Creates a file that is not expected to exist; false (nothing changed) when the file system refuses it.</summary>
    private static bool TryCreate(IWritableFileSystem fs, string path, ReadOnlySpan<byte> content, EntryTimes times)
    {
        try
        {
            fs.CreateFile(path, content, times);
            return true;
        }
        catch (BadArgumentException)
        {
            return false;
        }
    }

    /// <summary>Copies one named host file (a command-line argument).</summary>
    private static void PutFile(FileSystem view, IWritableFileSystem fs, string hostFile, string target, byte[] buffer)
    {
        var info = new FileInfo(hostFile);
        if (!info.Exists) throw new BadArgumentException($"'{hostFile}' does not exist.");
        PutFile(view, fs, new HostItem(HostItemKind.File, info.Name, hostFile, info.Length, HostTreeReader.Times(info)), target, buffer);
    }

    /// <summary>
    /// Copies one host file: a file that fits <paramref name="buffer"/> (or was read ahead) is created with its
    /// content in one operation, a larger one is streamed through the buffer. A failure part-way removes the partial
    /// copy, and an old file is replaced only after the copy succeeded.
    /// </summary>
    private static void PutFile(FileSystem view, IWritableFileSystem fs, HostItem file, string target, byte[] buffer)
    {
        var existing = view.TryLookup(target);
        if (existing is { IsDirectory: true }) throw new BadArgumentException("A directory is in the way of a file.", view.DescribePath(target));
        string writeTo = existing is null ? target : target.TrimEnd('/') + ".discemu-tmp";
        if (file.Content is null && file.Length < buffer.Length)
        {
            int got = HostTreeReader.ReadWhole(file.Path, file.Length, buffer);
            if (got >= 0) file = file with { Content = buffer, ContentLength = got };
        }
        if (file.Content is { } content)
        {
            fs.CreateFile(writeTo, content.AsSpan(0, file.ContentLength), file.Times);
            try
            {
                if (existing is not null) fs.Move(writeTo, target, replace: true);
            }
            catch
            {
                RemovePartial(fs, writeTo);
                throw;
            }
            return;
        }
        fs.CreateFile(writeTo, file.Times);
        try
        {
            // A bare handle and positional reads: no seeks.
            using var input = File.OpenHandle(file.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
            long pos = 0;
            int n;
            while ((n = RandomAccess.Read(input, buffer, pos)) > 0)
            {
                fs.Write(writeTo, pos, buffer.AsSpan(0, n));
                pos += n;
            }
            fs.SetTimes(writeTo, file.Times);
            if (existing is not null) fs.Move(writeTo, target, replace: true);
        }
        catch
        {
            RemovePartial(fs, writeTo);
            throw;
        }
    }

    private static void RemovePartial(IWritableFileSystem fs, string path)
    {
        try { fs.Delete(path); }
        catch (DiscemuException) { /* the original error is reported */ }
    }
}
