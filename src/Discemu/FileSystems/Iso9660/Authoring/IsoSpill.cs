using Microsoft.Win32.SafeHandles;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// A temporary file holding the entries of the tree (all but the directories themselves), one run of records per
/// scanned host directory, written once during the scan and read back one directory at a time while planning and
/// writing: the tree's memory then grows with its directories, not its files. Unlinked as soon as it is open
/// (deleted on close on Windows); its space is freed when disposed.
/// </summary>
internal sealed class IsoSpill : IDisposable
{
    private const byte FlagHidden = 1, FlagLinkCandidate = 2;

    private readonly SafeFileHandle _file;
    private readonly Lock _lock = new();
    private long _length;
    private int _runs;

    /// <summary>A run of records: where it is, how many entries, and the host directory they were scanned from.</summary>
    internal sealed record Run(int Id, long Offset, int Length, int Count, string HostDir);

    public IsoSpill()
    {
        string path = Path.Join(Path.GetTempPath(), $"discemu-mkiso-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        try
        {
            _file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None,
                OperatingSystem.IsWindows() ? FileOptions.DeleteOnClose : FileOptions.None);
            // Elsewhere the name goes at once (the open handle keeps the data), so not even a crash leaves the file behind.
            if (!OperatingSystem.IsWindows()) File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _file?.Dispose();
            throw new ImageAccessException($"Cannot create the temporary file '{path}': {e.Message}", path, e);
        }
    }

    /// <summary>Bytes spilled so far.</summary>
    public long Length => _length;

    /// <summary>Appends the records of <paramref name="entries"/> (scanned from <paramref name="hostDir"/>); safe from several threads.</summary>
    /// <param name="entries">One directory's entries.</param>
    /// <param name="hostDir">The host directory they are in (their host paths are rebuilt from it).</param>
    /// <param name="dirIds">Maps a directory entry to its number in the tree (directories stay in memory).</param>
    public Run Append(List<IsoNode> entries, string hostDir, Func<IsoNode, int> dirIds)
    {
        var buffer = new MemoryStream(entries.Count * 64);
        using (var w = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            foreach (var e in entries) Encode(w, e, dirIds);
        lock (_lock)
        {
            long offset = _length;
            try
            {
                RandomAccess.Write(_file, buffer.GetBuffer().AsSpan(0, (int)buffer.Length), offset);
            }
            catch (IOException e)
            {
                throw new ImageAccessException($"Cannot write the temporary file: {e.Message}", null, e);
            }
            _length += buffer.Length;
            return new Run(_runs++, offset, (int)buffer.Length, entries.Count, hostDir);
        }
    }

    /// <summary>Reads a run back: new nodes for files, links and devices; <paramref name="dirs"/> for directory entries.</summary>
    public List<IsoNode> Read(Run run, IReadOnlyList<IsoNode> dirs, Action<IsoNode, int> linked)
    {
        var bytes = new byte[run.Length];
        int done = 0;
        while (done < bytes.Length)
        {
            int n = RandomAccess.Read(_file, bytes.AsSpan(done), run.Offset + done);
            if (n <= 0) throw new ImageAccessException("The temporary file was truncated.");
            done += n;
        }
        var list = new List<IsoNode>(run.Count);
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false), System.Text.Encoding.UTF8);
        for (int i = 0; i < run.Count; i++)
        {
            var node = Decode(r, run.HostDir, dirs, out bool candidate);
            if (candidate) linked(node, i);
            list.Add(node);
        }
        return list;
    }

    private static void Encode(BinaryWriter w, IsoNode e, Func<IsoNode, int> dirIds)
    {
        w.Write((byte)e.Kind);
        if (e.IsDirectory)
        {
            w.Write(dirIds(e));
            return;
        }
        w.Write((byte)((e.Hidden ? FlagHidden : 0) | (e.Links > 1 ? FlagLinkCandidate : 0)));
        w.Write(e.Name);
        w.Write(e.Size);
        w.Write(e.ModifiedSeconds);
        w.Write(e.AccessedSeconds);
        w.Write(e.ChangedSeconds);
        w.Write(e.Mode);
        w.Write(e.Uid);
        w.Write(e.Gid);
        if (e.Kind == IsoNodeKind.Special) w.Write(e.DeviceNumber);
        if (e.Kind == IsoNodeKind.Symlink) w.Write(e.LinkTarget ?? "");
    }

    private static IsoNode Decode(BinaryReader r, string hostDir, IReadOnlyList<IsoNode> dirs, out bool candidate)
    {
        var kind = (IsoNodeKind)r.ReadByte();
        candidate = false;
        if (kind == IsoNodeKind.Directory) return dirs[r.ReadInt32()];
        byte flags = r.ReadByte();
        candidate = (flags & FlagLinkCandidate) != 0;
        string name = r.ReadString();
        long size = r.ReadInt64(), m = r.ReadInt64(), a = r.ReadInt64(), c = r.ReadInt64();
        uint mode = r.ReadUInt32(), uid = r.ReadUInt32(), gid = r.ReadUInt32();
        ulong device = kind == IsoNodeKind.Special ? r.ReadUInt64() : 0;
        string? target = kind == IsoNodeKind.Symlink ? r.ReadString() : null;
        return new IsoNode
        {
            Name = name, Kind = kind, HostDir = hostDir, Size = size,
            ModifiedSeconds = m, AccessedSeconds = a, ChangedSeconds = c, Mode = mode, Uid = uid, Gid = gid,
            DeviceNumber = device, LinkTarget = target, Hidden = (flags & FlagHidden) != 0,
        };
    }

    public void Dispose() => _file.Dispose();
}
