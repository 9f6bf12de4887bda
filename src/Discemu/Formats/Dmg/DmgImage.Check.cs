using System.Buffers;
using System.IO.Hashing;

namespace Discemu.Formats.Dmg;

public sealed partial class DmgImage
{
    /// <summary>
    /// Verifies what the image can verify: every chunk decompresses to its size; each partition's CRC-32 (over
    /// its chunks' data, zero chunks included, ignore chunks left out, as hdiutil computes it); the master CRC-32
    /// (over the partition checksums in order); and the data fork CRC-32 when the trailer has one. A mismatch or
    /// an undecodable chunk counts as a corruption; checksum types other than CRC-32 are reported as not verified.
    /// Nothing can be repaired: the format is read-only here.
    /// </summary>
    public ImageCheckResult Check(CheckRepair repair)
    {
        var result = new ImageCheckResult { ImageEndOffset = _file.Length };
        var partitionSums = new List<byte[]>();
        long totalChunks = 0, compressedChunks = 0;
        // The merged map is sorted by disk offset, and a partition's chunks keep their table's order.
        var byPartition = new List<DmgChunk>[Partitions.Count];
        for (int p = 0; p < byPartition.Length; p++) byPartition[p] = [];
        foreach (var c in _chunks)
            if (c.Table >= 0) byPartition[c.Table].Add(c);
        for (int p = 0; p < Partitions.Count; p++)
        {
            var part = Partitions[p];
            var crc = new Crc32();
            bool readable = true;
            foreach (var chunk in byPartition[p])
            {
                totalChunks++;
                if (DmgCodec.IsCompressed(chunk.Type)) compressedChunks++;
                if (chunk.Type == DmgChunkType.Ignore) continue;
                try { HashChunk(chunk, crc); }
                catch (CorruptImageException e)
                {
                    result.Corruptions++;
                    result.Messages.Add($"ERROR partition '{part.Resource.Name}': chunk at disk byte {chunk.Start}: {e.Message}");
                    readable = false;
                }
            }
            var stored = part.Table.Checksum;
            partitionSums.Add(stored.UsedBytes.ToArray());
            if (readable) Compare(result, $"partition '{part.Resource.Name}'", stored, crc.GetCurrentHashAsUInt32());
        }
        if (Trailer.MasterChecksum.Type != DmgConstants.ChecksumNone && Partitions.Count > 0)
        {
            var master = new Crc32();
            foreach (var s in partitionSums) master.Append(s);
            Compare(result, "master checksum", Trailer.MasterChecksum, master.GetCurrentHashAsUInt32());
        }
        if (Trailer.DataChecksum.Type != DmgConstants.ChecksumNone)
            Compare(result, "data fork", Trailer.DataChecksum, Trailer.DataChecksum.Type == DmgConstants.ChecksumCrc32 ? DataForkCrc() : 0);
        result.TotalClusters = totalChunks;
        result.AllocatedClusters = totalChunks;
        result.CompressedClusters = compressedChunks;
        result.FragmentedClusters = 0;
        return result;
    }

    private void HashChunk(DmgChunk c, Crc32 crc)
    {
        const int Step = 1 << 20;
        bool compressed = DmgCodec.IsCompressed(c.Type);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(compressed ? (int)c.Length : (int)Math.Min(Math.Max(c.Length, 1), Step));
        try
        {
            if (compressed)
            {
                var dest = buffer.AsSpan(0, (int)c.Length);
                Decompress(c, dest);
                crc.Append(dest);
                return;
            }
            for (long pos = 0; pos < c.Length; pos += Step)
            {
                var dest = buffer.AsSpan(0, (int)Math.Min(Step, c.Length - pos));
                if (c.Type == DmgChunkType.Raw) _file.Read(c.DataOffset + pos, dest);
                else dest.Clear();
                crc.Append(dest);
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    private uint DataForkCrc()
    {
        var crc = new Crc32();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (long pos = 0; pos < Trailer.DataForkLength; pos += buffer.Length)
            {
                var dest = buffer.AsSpan(0, (int)Math.Min(buffer.Length, Trailer.DataForkLength - pos));
                _file.Read(Trailer.DataForkOffset + pos, dest);
                crc.Append(dest);
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
        return crc.GetCurrentHashAsUInt32();
    }

    private static void Compare(ImageCheckResult result, string what, DmgChecksum stored, uint computed)
    {
        if (stored.Type == DmgConstants.ChecksumNone) return;
        if (stored.Crc32 is not { } expected)
        {
            result.Messages.Add($"Leaving the {what} checksum ({stored.TypeName}) unverified: only CRC-32 is supported.");
            return;
        }
        if (expected == computed) return;
        result.Corruptions++;
        result.Messages.Add($"ERROR {what}: stored CRC-32 {expected:x8}, computed {computed:x8}");
    }

    /// <inheritdoc/>
    public override IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific
    {
        get
        {
            var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var c in _chunks) counts[DmgCodec.Name(c.Type)] = counts.GetValueOrDefault(DmgCodec.Name(c.Type)) + 1;
            var partitions = new List<object?>();
            for (int p = 0; p < Partitions.Count; p++)
            {
                var part = Partitions[p];
                partitions.Add(new List<KeyValuePair<string, object?>>
                {
                    new("name", part.Resource.Name),
                    new("id", part.Resource.Id),
                    new("start-sector", part.Table.StartSector),
                    new("sectors", part.Table.SectorCount),
                    new("chunks", part.Table.Entries.Count),
                    new("checksum", Describe(part.Table.Checksum)),
                });
            }
            var list = new List<KeyValuePair<string, object?>>
            {
                new("metadata", Metadata),
                new("image-variant", Trailer.ImageVariant),
                new("flags", $"0x{Trailer.Flags:x}"),
                new("data-fork-offset", Trailer.DataForkOffset),
                new("data-fork-length", Trailer.DataForkLength),
                new("data-checksum", Describe(Trailer.DataChecksum)),
                new("master-checksum", Describe(Trailer.MasterChecksum)),
                new("segment-id", Trailer.SegmentId.ToString()),
                new("partitions", partitions),
                new("chunk-types", counts.Select(kv => new KeyValuePair<string, object?>(kv.Key, kv.Value)).ToList()),
            };
            return list;
        }
    }

    private static string Describe(DmgChecksum c) => c.Type == DmgConstants.ChecksumNone ? "none" : $"{c.TypeName}:{c.Hex}";
}
