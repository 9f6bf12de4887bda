using System.Buffers;
using Discemu.Block;
using Discemu.FileSystems;
using Discemu.Util;

namespace Discemu.Operations;

/// <summary>How <see cref="FileExtractor"/> writes host files.</summary>
public sealed record FileExtractOptions
{
    /// <summary>Replace existing host files and symbolic links (never a directory with a file); merge into existing directories.</summary>
    public bool Overwrite { get; init; }

    /// <summary>Apply the entries' permission bits (0777 of <see cref="FileSystemEntry.Mode"/>; set-id and sticky bits are never applied).</summary>
    public bool KeepModes { get; init; } = true;

    /// <summary>Receives one line per entry skipped (unsafe names, device nodes, duplicates).</summary>
    public Action<string>? Warning { get; init; }
}

/// <summary>What <see cref="FileExtractor.Extract"/> wrote.</summary>
public sealed class FileExtractResult
{
    /// <summary>Regular files written.</summary>
    public int Files { get; set; }
    /// <summary>Directories created or merged into.</summary>
    public int Directories { get; set; }
    /// <summary>Symbolic links created.</summary>
    public int Symlinks { get; set; }
    /// <summary>Entries skipped (each reported through <see cref="FileExtractOptions.Warning"/>).</summary>
    public int Skipped { get; set; }
    /// <summary>Content bytes written.</summary>
    public long Bytes { get; set; }
}

/// <summary>
/// Copies files, directories and symbolic links out of a <see cref="FileSystem"/> onto the host, never writing
/// outside the destination whatever names the image holds: each name becomes one path component
/// (<c>/</c> and NUL are replaced by <c>_</c>; empty, <c>.</c> and <c>..</c> are refused), files and links are
/// created with O_EXCL (an existing name, or a symbolic link planted there, is never followed), and the
/// extractor only descends into directories it created or real (non-link) directories. Symbolic links are
/// recreated as stored (they are never followed while extracting); times are set with AT_SYMLINK_NOFOLLOW.
/// Device nodes, FIFOs and sockets are skipped. Hard links are written as separate copies. Holes in the
/// source (as <see cref="BlockDevice.GetStatus"/> reports them) stay holes.
/// </summary>
public sealed class FileExtractor(FileSystem fileSystem, FileExtractOptions options)
{
    private const int CopyChunk = 1 << 20;
    private readonly HashSet<object> _visited = [];
    private readonly HashSet<string> _created = new(StringComparer.Ordinal);
    private FileExtractResult _result = new();

    /// <summary>
    /// Turns an entry name into a safe single path component, or null when it cannot be one
    /// (empty, <c>.</c>, <c>..</c>). <c>/</c>, <c>\</c> and NUL become <c>_</c>.
    /// </summary>
    public static string? SafeName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string safe = name.Replace('/', '_').Replace('\0', '_').Replace('\\', '_');
        return safe is "" or "." or ".." ? null : safe;
    }

    /// <summary>
    /// Extracts <paramref name="entry"/> to <paramref name="destination"/> (the host path the entry itself
    /// becomes; for a directory whose destination exists, its content is merged into it).
    /// </summary>
    /// <exception cref="BadArgumentException">A host file exists and <see cref="FileExtractOptions.Overwrite"/> is off, or a non-directory is in a directory's way.</exception>
    /// <exception cref="ImageAccessException">Writing a host file failed.</exception>
    /// <exception cref="CorruptImageException">The image is damaged (a directory reached twice, a bad extent).</exception>
    public FileExtractResult Extract(FileSystemEntry entry, string destination)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(destination);
        _result = new FileExtractResult();
        _visited.Clear();
        _created.Clear();
        ExtractOne(entry, Path.GetFullPath(destination), entry.Name.Length == 0 ? "/" : entry.Name);
        return _result;
    }

    private void ExtractOne(FileSystemEntry entry, string dest, string shown)
    {
        try
        {
            switch (entry.Kind)
            {
                case FileSystemEntryKind.Directory: ExtractDirectory(entry, dest, shown); break;
                case FileSystemEntryKind.File: ExtractFile(entry, dest); break;
                case FileSystemEntryKind.Symlink: ExtractSymlink(entry, dest, shown); break;
                default: Skip($"{shown}: not a file, directory or symbolic link (device node, FIFO or socket); skipped."); break;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageAccessException($"Could not write: {e.Message}", dest, e);
        }
    }

    private void ExtractDirectory(FileSystemEntry dir, string dest, string shown)
    {
        if (dir.Identity is { } id && !_visited.Add(id))
            throw new CorruptImageException($"Directory '{shown}' is reached twice in the tree.", fileSystem.DisplayPath);
        if (IsLink(dest) || File.Exists(dest))
        {
            if (!options.Overwrite) throw new BadArgumentException("Exists and is not a directory (use --force to replace it).", dest);
            File.Delete(dest);
        }
        bool existed = Directory.Exists(dest);
        if (!existed) Directory.CreateDirectory(dest);
        _created.Add(dest);
        _result.Directories++;
        foreach (var child in fileSystem.ListDirectory(dir))
        {
            string childShown = shown.TrimEnd('/') + "/" + child.Name;
            if (SafeName(child.Name) is not { } safe)
            {
                Skip($"{childShown}: the name cannot be a file name; skipped.");
                continue;
            }
            string childDest = Path.Join(dest, safe);
            if (_created.Contains(childDest))
            {
                Skip($"{childShown}: another entry of this directory was already written as '{safe}'; skipped.");
                continue;
            }
            ExtractOne(child, childDest, childShown);
        }
        if (!existed) ApplyMetadata(dir, dest); // a directory that was there already keeps its own mode and times
    }

    private void ExtractFile(FileSystemEntry file, string dest)
    {
        using (var content = fileSystem.OpenFile(file)) // a file that cannot be read fails before anything is created
        using (var output = CreateExclusive(dest, () => new FileStream(dest, FileMode.CreateNew, FileAccess.Write, FileShare.None)))
        {
            _created.Add(dest);
            CopySparse(content, output);
        }
        _result.Files++;
        ApplyMetadata(file, dest);
    }

    private void ExtractSymlink(FileSystemEntry link, string dest, string shown)
    {
        string target = link.SymlinkTarget ?? "";
        if (target.Length == 0 || target.Contains('\0'))
        {
            Skip($"{shown}: the symbolic link's target is empty or holds a NUL; skipped.");
            return;
        }
        CreateExclusive(dest, () => File.CreateSymbolicLink(dest, target));
        _created.Add(dest);
        _result.Symlinks++;
        if (link.Modified is { } m) LinuxNative.SetTimesNoFollow(dest, link.Accessed ?? m, m);
    }

    /// <summary>
    /// Creates a file or link with <paramref name="create"/> (which must fail when the name exists, as O_EXCL
    /// does); when something is in the way, refuses or (with Overwrite) removes it — never a directory, and a
    /// link is removed itself, never its target — and tries once more.
    /// </summary>
    private T CreateExclusive<T>(string dest, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (IOException) when (IsLink(dest) || Path.Exists(dest))
        {
            if (!IsLink(dest) && Directory.Exists(dest)) throw new BadArgumentException("Is a directory.", dest);
            if (!options.Overwrite) throw new BadArgumentException("Exists (use --force to overwrite).", dest);
            File.Delete(dest);
            return create();
        }
    }

    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;

    private void CopySparse(BlockDevice content, FileStream output)
    {
        long length = content.Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(CopyChunk, Math.Max(length, 1)));
        try
        {
            long end = 0; // end of the last data written
            for (long pos = 0; pos < length;)
            {
                // Small files are copied whole; larger ones skip what the source reports as holes.
                var status = length <= CopyChunk ? new BlockStatus(length, BlockStatusFlags.Data) : content.GetStatus(pos, length - pos);
                if (status.IsZero)
                {
                    pos += status.Length;
                    continue;
                }
                for (long runEnd = pos + status.Length; pos < runEnd;)
                {
                    int n = (int)Math.Min(buffer.Length, runEnd - pos);
                    content.Read(pos, buffer.AsSpan(0, n));
                    RandomAccess.Write(output.SafeFileHandle, buffer.AsSpan(0, n), pos);
                    pos += n;
                    end = pos;
                    _result.Bytes += n;
                }
            }
            if (end < length) output.SetLength(length); // a trailing hole
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void ApplyMetadata(FileSystemEntry entry, string dest)
    {
        if (options.KeepModes && entry.Mode is { } mode && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(dest, (UnixFileMode)(mode & 0x1FF));
        if (entry.Modified is { } m && !LinuxNative.SetTimesNoFollow(dest, entry.Accessed ?? m, m))
        {
            File.SetLastWriteTimeUtc(dest, m.UtcDateTime);
            File.SetLastAccessTimeUtc(dest, (entry.Accessed ?? m).UtcDateTime);
        }
    }

    private void Skip(string message)
    {
        _result.Skipped++;
        options.Warning?.Invoke(message);
    }
}
