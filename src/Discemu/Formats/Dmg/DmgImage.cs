using Discemu.Block;
using static Discemu.Formats.Dmg.DmgConstants;

namespace Discemu.Formats.Dmg;

/// <summary>One chunk of the virtual disk, in bytes: where it lies on the disk and where its data lies in the file.</summary>
internal readonly record struct DmgChunk(long Start, long Length, DmgChunkType Type, long DataOffset, long DataLength, int Table)
{
    public long End => Start + Length;
}

/// <summary>One partition (blkx resource) of the image with its block table.</summary>
internal sealed record DmgPartition(DmgResource Resource, DmgBlockTable Table);

/// <summary>
/// An opened UDIF image (read-only): the block tables of every partition merged into one sorted chunk map over
/// the virtual disk, read through a small cache of decompressed chunks.
/// </summary>
public sealed partial class DmgImage : DiskImage, ICheckableImage
{
    /// <summary>Bytes of decompressed chunks kept for random reads.</summary>
    internal const long CacheBytes = 32L << 20;

    private readonly FileDevice _file;
    private readonly DmgChunk[] _chunks;
    private readonly long _length;
    private readonly DmgChunkCache _cache = new(CacheBytes);

    private DmgImage(string path, FileDevice file, DmgTrailer trailer, string metadata, IReadOnlyList<DmgResource> resources,
        IReadOnlyList<DmgPartition> partitions, DmgChunk[] chunks, long length)
    {
        Path = path;
        _file = file;
        Trailer = trailer;
        Metadata = metadata;
        Resources = resources;
        Partitions = partitions;
        _chunks = chunks;
        _length = length;
    }

    internal DmgTrailer Trailer { get; }

    /// <summary>Where the block tables came from: "xml", "resource fork" or "none".</summary>
    internal string Metadata { get; }

    internal IReadOnlyList<DmgResource> Resources { get; }

    internal IReadOnlyList<DmgPartition> Partitions { get; }

    internal ReadOnlySpan<DmgChunk> Chunks => _chunks;

    internal DmgChunkCache Cache => _cache;

    /// <inheritdoc/>
    public override ImageFormat Format => DmgFormat.Instance;

    /// <inheritdoc/>
    public override string Path { get; }

    /// <inheritdoc/>
    public override long Length => _length;

    /// <inheritdoc/>
    public override DeviceCapabilities Capabilities => DeviceCapabilities.Status;

    /// <inheritdoc/>
    public override long? ActualSize => Util.HostFile.AllocatedBytes(Path);

    /// <summary>Opens a UDIF image read-only.</summary>
    internal static DmgImage Open(ImageOpenRequest request)
    {
        string path = request.Path;
        if (request.Writable) throw new UnsupportedFeatureException("DMG images are read-only in Discemu: they cannot be opened for writing.", path);
        var file = FileDevice.Open(path, writable: false);
        try
        {
            return Load(path, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static DmgImage Load(string path, FileDevice file)
    {
        long fileLength = file.Length;
        if (fileLength < KolySize) throw new CorruptImageException("The file is too short for a UDIF image.", path);
        var kolyBytes = new byte[KolySize];
        file.Read(fileLength - KolySize, kolyBytes);
        if (!DmgTrailer.HasMagic(kolyBytes))
        {
            var tail = kolyBytes.AsSpan(KolySize - EncryptedV1Magic.Length);
            if (tail.SequenceEqual(EncryptedV1Magic)) throw new UnsupportedFeatureException("Encrypted DMG images are not supported.", path);
            var head = new byte[EncryptedV2Magic.Length];
            file.Read(0, head);
            if (head.AsSpan().SequenceEqual(EncryptedV2Magic)) throw new UnsupportedFeatureException("Encrypted DMG images are not supported.", path);
            throw new CorruptImageException("Not a UDIF image: no koly trailer in the last 512 bytes.", path);
        }
        var trailer = DmgTrailer.Read(kolyBytes, fileLength, path);

        string metadata;
        IReadOnlyList<DmgResource> resources;
        if (trailer.PlistLength > 0)
        {
            metadata = "xml";
            var xml = new byte[trailer.PlistLength];
            file.Read(trailer.PlistOffset, xml);
            resources = DmgPlist.ReadResources(xml, path);
        }
        else if (trailer.ResourceForkLength > 0)
        {
            metadata = "resource fork";
            var fork = new byte[trailer.ResourceForkLength];
            file.Read(trailer.ResourceForkOffset, fork);
            resources = DmgResourceFork.Read(fork, path);
        }
        else
        {
            metadata = "none";
            resources = [];
        }

        var partitions = new List<DmgPartition>();
        foreach (var r in resources)
        {
            if (r.Type != "blkx") continue;
            partitions.Add(new DmgPartition(r, DmgBlockTable.Read(r.Data, $"partition '{r.Name}' (ID {r.Id})", path)));
        }
        var (chunks, length) = metadata == "none" ? StubChunks(trailer, path) : BuildChunks(trailer, partitions, fileLength, path);
        return new DmgImage(path, file, trailer, metadata, resources, partitions, chunks, length);
    }

    /// <summary>An image without block tables (a UDIF stub): the data fork is the disk.</summary>
    private static (DmgChunk[], long) StubChunks(DmgTrailer t, string path)
    {
        long length = t.SectorCount > 0 ? checked(t.SectorCount * SectorSize) : t.DataForkLength;
        long stored = Math.Min(length, t.DataForkLength);
        if (stored == 0) return ([], length);
        return ([new DmgChunk(0, stored, DmgChunkType.Raw, t.DataForkOffset, stored, -1)], length);
    }

    private static (DmgChunk[], long) BuildChunks(DmgTrailer t, List<DmgPartition> partitions, long fileLength, string path)
    {
        long dataStart = t.DataForkLength > 0 ? t.DataForkOffset : 0;
        long dataEnd = t.DataForkLength > 0 ? t.DataForkOffset + t.DataForkLength : fileLength - KolySize;
        int total = 0;
        foreach (var p in partitions)
        {
            total += p.Table.Entries.Count;
            if (total > MaxChunks) throw new CorruptImageException($"The image has more than {MaxChunks} chunks.", path);
        }
        var chunks = new DmgChunk[total];
        int n = 0;
        for (int ti = 0; ti < partitions.Count; ti++)
        {
            var table = partitions[ti].Table;
            string what = $"partition '{partitions[ti].Resource.Name}'";
            foreach (var e in table.Entries)
            {
                long start, length, dataOffset = 0;
                try
                {
                    start = checked((table.StartSector + e.StartSector) * SectorSize);
                    length = checked(e.SectorCount * SectorSize);
                    if (e.Type is not (DmgChunkType.Zero or DmgChunkType.Ignore)) dataOffset = checked(dataStart + table.DataOffset + e.DataOffset);
                }
                catch (OverflowException) { throw new CorruptImageException($"A chunk of {what} is out of range.", path); }
                if (e.Type is DmgChunkType.Raw or DmgChunkType.Adc or DmgChunkType.Zlib or DmgChunkType.Bzip2 or DmgChunkType.Lzfse or DmgChunkType.Lzma)
                {
                    if (dataOffset < dataStart || dataOffset > dataEnd || e.DataLength > dataEnd - dataOffset)
                        throw new CorruptImageException($"A chunk of {what} stores {e.DataLength} bytes at {dataOffset}, outside the data fork [{dataStart}, {dataEnd}).", path);
                    if (e.Type == DmgChunkType.Raw && e.DataLength != length)
                        throw new CorruptImageException($"A raw chunk of {what} stores {e.DataLength} bytes for {length} bytes of disk.", path);
                    if (e.Type != DmgChunkType.Raw)
                    {
                        if (e.DataLength == 0) throw new CorruptImageException($"A compressed chunk of {what} stores no data.", path);
                        if (length > MaxChunkBytes || e.DataLength > MaxCompressedChunkBytes)
                            throw new UnsupportedFeatureException($"A {DmgCodec.Name(e.Type)} chunk of {what} holds {length} bytes ({e.DataLength} stored); Discemu decompresses chunks of at most {MaxChunkBytes} bytes.", path);
                    }
                }
                chunks[n++] = new DmgChunk(start, length, e.Type, dataOffset, e.DataLength, ti);
            }
        }
        Array.Sort(chunks, (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Table.CompareTo(b.Table));
        for (int i = 1; i < chunks.Length; i++)
        {
            if (chunks[i].Start < chunks[i - 1].End)
                throw new CorruptImageException($"Chunks overlap at disk byte {chunks[i].Start} (partitions '{partitions[chunks[i - 1].Table].Resource.Name}' and '{partitions[chunks[i].Table].Resource.Name}').", path);
        }
        long end = chunks.Length == 0 ? 0 : chunks[^1].End;
        long media = t.SectorCount > 0 ? t.SectorCount * SectorSize : end;
        if (end > media) throw new CorruptImageException($"The chunks reach disk byte {end}, past the trailer's {t.SectorCount} sectors.", path);
        return (chunks, media);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
    }
}
