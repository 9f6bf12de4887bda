using System.Buffers.Binary;
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

    /// <summary>Bytes of records a <see cref="RunBuilder"/> collects before it appends them as one chunk.</summary>
    private const int ChunkBytes = 256 << 10;

    /// <summary>
    /// A run of records: where its chunks are (records never cross one), how many entries and bytes, and the
    /// directory they were scanned from (its host path is made when the run is read).
    /// </summary>
    internal sealed record Run(int Id, (long Offset, int Length)[] Chunks, int Count, long Length, IsoNode HostDir);

    private byte[]? _readBuffer;

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

    /// <summary>The records of one scanned host directory, appended to the spill file a chunk at a time (thread-safe across builders).</summary>
    internal sealed class RunBuilder
    {
        private readonly IsoSpill _spill;
        private readonly MemoryStream _buffer = new();
        private readonly BinaryWriter _w;
        private readonly List<(long, int)> _chunks = [];
        private long _length;

        public RunBuilder(IsoSpill spill)
        {
            _spill = spill;
            _w = new BinaryWriter(_buffer, System.Text.Encoding.UTF8, leaveOpen: true);
        }

        /// <summary>Entries added so far (their index in the run is their order).</summary>
        public int Count { get; private set; }

        /// <summary>A directory entry: the directory is the tree's node number <paramref name="id"/> (directories stay in memory).</summary>
        public void AddDirectory(int id)
        {
            _w.Write((byte)IsoNodeKind.Directory);
            _w.Write(id);
            Added();
        }

        /// <summary>Any other entry: its attributes, link target (symbolic links) and device number (devices).</summary>
        public void AddEntry(string name, IsoNodeKind kind, bool hidden, bool linkCandidate, long size, long modified, long accessed, long changed,
            uint mode, uint uid, uint gid, ulong device, string? target)
        {
            _w.Write((byte)kind);
            _w.Write((byte)((hidden ? FlagHidden : 0) | (linkCandidate ? FlagLinkCandidate : 0)));
            _w.Write(name);
            _w.Write(size);
            _w.Write(modified);
            _w.Write(accessed);
            _w.Write(changed);
            _w.Write(mode);
            _w.Write(uid);
            _w.Write(gid);
            if (kind == IsoNodeKind.Special) _w.Write(device);
            if (kind == IsoNodeKind.Symlink) _w.Write(target ?? "");
            Added();
        }

        private void Added()
        {
            Count++;
            if (_buffer.Length >= ChunkBytes) Flush();
        }

        private void Flush()
        {
            if (_buffer.Length == 0) return;
            var bytes = _buffer.GetBuffer().AsSpan(0, (int)_buffer.Length);
            _chunks.Add((_spill.Write(bytes), bytes.Length));
            _length += bytes.Length;
            _buffer.SetLength(0);
        }

        /// <summary>Appends what is left and returns the run; the builder is done.</summary>
        /// <param name="id">The run's number.</param>
        /// <param name="hostDir">The scanned directory the entries are in (their host paths are rebuilt from its own).</param>
        internal Run Finish(int id, IsoNode hostDir)
        {
            Flush();
            return new Run(id, [.. _chunks], Count, _length, hostDir);
        }
    }

    /// <summary>Appends <paramref name="bytes"/>; returns where. Safe from several threads.</summary>
    private long Write(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            long offset = _length;
            try
            {
                RandomAccess.Write(_file, bytes, offset);
            }
            catch (IOException e)
            {
                throw new ImageAccessException($"Cannot write the temporary file: {e.Message}", null, e);
            }
            _length += bytes.Length;
            return offset;
        }
    }

    /// <summary>A builder for the records of one scanned host directory.</summary>
    public RunBuilder Builder() => new(this);

    /// <summary>Ends <paramref name="run"/> (scanned from <paramref name="hostDir"/>); safe from several threads.</summary>
    public Run Append(RunBuilder run, IsoNode hostDir) => run.Finish(Interlocked.Increment(ref _runs) - 1, hostDir);

    /// <summary>
    /// Reads a run back into <paramref name="into"/>: directory entries through <paramref name="directory"/> (given
    /// the node number), the others decoded into the entries' pool; <paramref name="linked"/> is told the index in
    /// <paramref name="into"/> and in the run of every file that may be a hard link. One chunk is in memory at a time.
    /// </summary>
    public void Read(Run run, IsoEntries into, Action<int> directory, Action<int, int> linked)
    {
        byte[] buffer = Interlocked.Exchange(ref _readBuffer, null) ?? [];
        try
        {
            int hostDir = into.HostDirs.Count;
            into.HostDirs.Add(run.HostDir.HostPath!);
            int i = 0;
            foreach (var (offset, length) in run.Chunks)
            {
                if (buffer.Length < length) buffer = new byte[Math.Max(length, ChunkBytes * 2)];
                int done = 0;
                while (done < length)
                {
                    int n = RandomAccess.Read(_file, buffer.AsSpan(done, length - done), offset + done);
                    if (n <= 0) throw new ImageAccessException("The temporary file was truncated.");
                    done += n;
                }
                var r = new SpanReader(buffer.AsSpan(0, length));
                for (; !r.AtEnd; i++) Decode(ref r, into, hostDir, i, directory, linked);
            }
        }
        finally
        {
            _readBuffer = buffer;
        }
    }

    private static void Decode(ref SpanReader r, IsoEntries into, int hostDir, int i, Action<int> directory, Action<int, int> linked)
    {
        var kind = (IsoNodeKind)r.Byte();
        if (kind == IsoNodeKind.Directory)
        {
            directory(r.Int32());
            return;
        }
        byte flags = r.Byte();
        ref var e = ref into.Add();
        e.Kind = kind;
        e.HostDir = hostDir;
        e.Hidden = (flags & FlagHidden) != 0;
        e.Name = r.Text(into);
        into.Store(IsoEntries.Version); // right after the name: a Joliet name equal to it is shared (IsoEntries.Versioned)
        e.Size = r.Int64();
        (e.Modified, e.Accessed, e.Changed) = (r.Int64(), r.Int64(), r.Int64());
        (e.Mode, e.Uid, e.Gid) = (r.UInt32(), r.UInt32(), r.UInt32());
        if (kind == IsoNodeKind.Special) e.Device = (ulong)r.Int64();
        if (kind == IsoNodeKind.Symlink) e.Target = r.Text(into);
        if ((flags & FlagLinkCandidate) != 0) linked(into.Count - 1, i);
    }

    /// <summary>Reads what <see cref="RunBuilder"/> wrote (BinaryWriter's little-endian numbers and length-prefixed UTF-8).</summary>
    private ref struct SpanReader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _b = bytes;
        private int _pos;

        public readonly bool AtEnd => _pos >= _b.Length;

        public byte Byte() => _b[_pos++];

        public int Int32() { int v = BinaryPrimitives.ReadInt32LittleEndian(_b[_pos..]); _pos += 4; return v; }

        public uint UInt32() { uint v = BinaryPrimitives.ReadUInt32LittleEndian(_b[_pos..]); _pos += 4; return v; }

        public long Int64() { long v = BinaryPrimitives.ReadInt64LittleEndian(_b[_pos..]); _pos += 8; return v; }

        /// <summary>A 7-bit-length-prefixed UTF-8 string, decoded into the pool of <paramref name="into"/>.</summary>
        public TextRef Text(IsoEntries into)
        {
            int length = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = Byte();
                length |= (b & 0x7F) << shift;
                if (b < 0x80) break;
            }
            var utf8 = _b.Slice(_pos, length);
            _pos += length;
            int chars = System.Text.Encoding.UTF8.GetChars(utf8, into.Reserve(System.Text.Encoding.UTF8.GetMaxCharCount(length)));
            return into.Commit(chars);
        }
    }

    public void Dispose() => _file.Dispose();
}
