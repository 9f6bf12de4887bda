namespace Discemu.Formats.Ewf;

public sealed partial class EwfImage
{
    private const int MaxCheckMessages = 100;

    /// <summary>
    /// Reports what opening found (damaged tables replaced by their mirrors, damaged hash or error
    /// sections, disagreeing counts) and decodes every chunk, checking its Adler-32 or zlib checksum.
    /// EWF images cannot be repaired.
    /// </summary>
    /// <exception cref="NotSupportedException">A repair was asked for.</exception>
    public ImageCheckResult Check(CheckRepair repair)
    {
        if (repair != CheckRepair.None) throw new NotSupportedException("EWF images are read-only and cannot be repaired.");
        var result = new ImageCheckResult();
        foreach (var p in _set.Problems)
        {
            result.Corruptions++;
            if (result.Messages.Count < MaxCheckMessages) result.Messages.Add($"ERROR {p}");
        }
        long chunks = _set.ChunkCount, compressed = 0;
        var buffer = new byte[_set.ChunkSize];
        for (long i = 0; i < chunks; i++)
        {
            if (_set.Chunks.Get(i).Kind == EwfChunkKind.Compressed) compressed++;
            string? problem;
            try { problem = TryDecodeChunk(i, buffer.AsSpan(0, ChunkLength(i))); }
            catch (IOException e) { problem = e.Message; result.CheckErrors++; }
            if (problem is null) continue;
            result.Corruptions++;
            if (result.Messages.Count < MaxCheckMessages) result.Messages.Add($"ERROR chunk {i} (media offset {i * _set.ChunkSize}): {problem}");
        }
        result.TotalClusters = chunks;
        result.AllocatedClusters = chunks;
        result.CompressedClusters = compressed;
        return result;
    }
}
