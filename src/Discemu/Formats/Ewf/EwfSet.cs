using Discemu.Block;

namespace Discemu.Formats.Ewf;

/// <summary>One unreadable range recorded in an error2 section (or EWF2 error table), in sectors.</summary>
public readonly record struct EwfErrorRange(long FirstSector, long SectorCount);

/// <summary>What parsing a segment set found: files, media geometry, chunk map, metadata and hashes.</summary>
internal sealed class EwfSet : IDisposable
{
    public List<string> Paths { get; } = [];
    public List<BlockDevice> Files { get; } = [];
    public EwfVolume Volume { get; set; }
    public bool HasVolume { get; set; }
    public int FormatVersion { get; set; } = 1;
    public EwfCaseInfo CaseInfo { get; set; } = new();
    public EwfChunkMap Chunks { get; } = new();
    public byte[]? Md5 { get; set; }
    public byte[]? Sha1 { get; set; }
    public List<EwfErrorRange> Errors { get; } = [];
    /// <summary>EWF2 pattern-fill chunks: chunk index to the 8-byte pattern.</summary>
    public Dictionary<int, ulong> Patterns { get; } = [];
    /// <summary>Non-fatal problems found while parsing (reported by check).</summary>
    public List<string> Problems { get; } = [];
    /// <summary>Section type names in file order, per segment (for info and check).</summary>
    public List<List<string>> SectionNames { get; } = [];
    public bool AnyCompressedChunk { get; set; }
    /// <summary>EWF2 compression method from the file header (0 none, 1 zlib, 2 bzip2).</summary>
    public int Ewf2Compression { get; set; }

    public long MediaSize => Volume.MediaSize;
    public int ChunkSize => Volume.ChunkSize;
    public long ChunkCount => MediaSize == 0 ? 0 : (MediaSize + ChunkSize - 1) / ChunkSize;

    public void Dispose()
    {
        foreach (var f in Files) f.Dispose();
        Files.Clear();
    }
}
