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

    private static void PutTree(FileSystem view, IWritableFileSystem fs, string hostDir, string target, byte[] buffer)
    {
        var existing = view.TryLookup(target);
        if (existing is null) fs.CreateDirectory(target, Times(new DirectoryInfo(hostDir)));
        else if (!existing.IsDirectory) throw new BadArgumentException("A file is in the way of a directory.", view.DescribePath(target));
        foreach (var entry in new DirectoryInfo(hostDir).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (entry.LinkTarget is not null) continue; // symbolic links have no FAT equivalent
            string child = FsEdit.Join(target, entry.Name);
            if (entry is DirectoryInfo d) PutTree(view, fs, d.FullName, child, buffer);
            else PutFile(view, fs, entry.FullName, child, buffer);
        }
        fs.SetTimes(target, Times(new DirectoryInfo(hostDir)));
    }

    private static EntryTimes Times(FileSystemInfo info)
        => new(new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), new DateTimeOffset(info.LastAccessTimeUtc, TimeSpan.Zero), new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));

    /// <summary>Copies one host file; a failure part-way removes the partial copy, and an old file is replaced only after the copy succeeded.</summary>
    private static void PutFile(FileSystem view, IWritableFileSystem fs, string hostFile, string target, byte[] buffer)
    {
        var info = new FileInfo(hostFile);
        if (!info.Exists) throw new BadArgumentException($"'{hostFile}' does not exist.");
        var existing = view.TryLookup(target);
        if (existing is { IsDirectory: true }) throw new BadArgumentException("A directory is in the way of a file.", view.DescribePath(target));
        string writeTo = existing is null ? target : target.TrimEnd('/') + ".discemu-tmp";
        var times = Times(info);
        fs.CreateFile(writeTo, times);
        try
        {
            // A bare handle and positional reads: no lock (FileShare), no seeks, one read for a small file.
            using var input = File.OpenHandle(hostFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
            long length = RandomAccess.GetLength(input), pos = 0;
            int n;
            while (pos < length && (n = RandomAccess.Read(input, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - pos)), pos)) > 0)
            {
                fs.Write(writeTo, pos, buffer.AsSpan(0, n));
                pos += n;
            }
            fs.SetTimes(writeTo, times);
            if (existing is not null) fs.Move(writeTo, target, replace: true);
        }
        catch
        {
            try { fs.Delete(writeTo); }
            catch (DiscemuException) { /* the original error is reported */ }
            throw;
        }
    }
}
