using System.Buffers.Binary;
using Discemu.Formats.Qcow2;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damages image bytes the ways real corruption and hostile files do: bit flips, bytes forced to
/// 0x00/0xFF, 32/64-bit fields set to boundary values, truncation and extension. Half the hits land in
/// the first 4 KiB and most of the rest in the metadata tables found by parsing the QCOW2 header.
/// </summary>
internal sealed class Mutator(Random rng)
{
    // Offsets of the QCOW2 header's 32-bit and 64-bit fields.
    private static readonly int[] Fields32 = [4, 16, 20, 32, 36, 56, 60, 96, 100];
    private static readonly int[] Fields64 = [8, 24, 40, 48, 64, 72, 80, 88];

    private static readonly uint[] Boundary32 =
        [0, 1, 2, 3, 7, 8, 9, 15, 16, 20, 21, 22, 31, 32, 63, 64, 104, 112, 511, 512, 4096, 65536, 1 << 21, 1 << 24,
         0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF];

    /// <summary>Mutates a copy of <paramref name="seed"/>; <paramref name="hot"/> are metadata ranges worth hitting.</summary>
    public byte[] Mutate(byte[] seed, IReadOnlyList<(long Offset, long Length)> hot, List<string> log)
    {
        var data = (byte[])seed.Clone();
        int count = rng.Next(1, 7);
        for (int i = 0; i < count; i++)
        {
            if (data.Length == 0) { data = new byte[rng.Next(1, 4096)]; log.Add("grow-empty"); continue; }
            int kind = rng.Next(100);
            if (kind < 4)
            {
                int len = rng.Next(3) == 0 ? rng.Next(0, Math.Min(data.Length, 4096) + 1) : rng.Next(0, data.Length + 1);
                Array.Resize(ref data, len);
                log.Add($"truncate {len}");
                continue;
            }
            if (kind < 8)
            {
                int extra = rng.Next(1, 1 << 20);
                int old = data.Length;
                Array.Resize(ref data, old + extra);
                if (rng.Next(2) == 0) rng.NextBytes(data.AsSpan(old));
                log.Add($"extend +{extra}");
                continue;
            }
            int pos = Position(data.Length, hot);
            switch (kind)
            {
                case < 30:
                    data[pos] ^= (byte)(1 << rng.Next(8));
                    log.Add($"flip @{pos}");
                    break;
                case < 45:
                    data[pos] = rng.Next(3) switch { 0 => 0x00, 1 => 0xFF, _ => (byte)rng.Next(256) };
                    log.Add($"byte @{pos}={data[pos]:x2}");
                    break;
                case < 70:
                    if (pos < 128 && rng.Next(3) > 0) pos = Fields32[rng.Next(Fields32.Length)];
                    pos &= ~3;
                    if (pos + 4 > data.Length) break;
                    uint v32 = rng.Next(5) == 0 ? (uint)rng.NextInt64(0, 1L << 32) : Boundary32[rng.Next(Boundary32.Length)];
                    BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(pos), v32);
                    log.Add($"u32 @{pos}=0x{v32:x}");
                    break;
                default:
                    if (pos < 128 && rng.Next(3) > 0) pos = Fields64[rng.Next(Fields64.Length)];
                    pos &= ~7;
                    if (pos + 8 > data.Length) break;
                    ulong v64 = Value64(data.Length);
                    BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(pos), v64);
                    log.Add($"u64 @{pos}=0x{v64:x}");
                    break;
            }
        }
        return data;
    }

    private ulong Value64(long fileLength)
    {
        ulong[] values =
        [
            0, 1, 0x200, 0x10000, (ulong)fileLength, (ulong)(fileLength + 65535) & ~0xFFFFUL, (ulong)fileLength * 2,
            1UL << 55, (1UL << 56) - 512, 1UL << 56, long.MaxValue, 1UL << 63, ulong.MaxValue, ulong.MaxValue - 511,
            Qcow2Constants.EntryCopied | 0x10000, Qcow2Constants.EntryCompressed | (ulong)rng.NextInt64(),
            Qcow2Constants.EntryCopied | Qcow2Constants.EntryZero, Qcow2Constants.EntryCopied | ((ulong)fileLength & ~0x1FFUL),
        ];
        return rng.Next(6) == 0 ? (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63) : values[rng.Next(values.Length)];
    }

    private int Position(int length, IReadOnlyList<(long Offset, long Length)> hot)
    {
        int r = rng.Next(100);
        if (r < 50 || hot.Count == 0 && r < 85) return rng.Next(Math.Min(length, 4096));
        if (r < 85)
        {
            var (off, len) = hot[rng.Next(hot.Count)];
            if (off < length) return (int)Math.Min(length - 1, off + rng.NextInt64(0, Math.Max(1, len)));
        }
        return rng.Next(length);
    }

    /// <summary>The metadata ranges of a QCOW2 file (header cluster, L1, L2s, refcount table and blocks, snapshots), or just the first 4 KiB.</summary>
    public static List<(long Offset, long Length)> HotRanges(byte[] file)
    {
        var hot = new List<(long, long)> { (0, Math.Min(file.Length, 4096)) };
        Qcow2Header h;
        try { h = Qcow2Header.Read(file, null); }
        catch (DiscemuException) { return hot; }
        long cs = h.ClusterSize;
        void Add(long off, long len)
        {
            if (off > 0 && off < file.Length && len > 0) hot.Add((off, Math.Min(len, file.Length - off)));
        }
        Add(h.L1TableOffset, h.L1Size * 8L);
        Add(h.RefcountTableOffset, h.RefcountTableClusters * cs);
        if (h.SnapshotCount > 0) Add(h.SnapshotsOffset, cs);
        for (int i = 0; i < Math.Min(h.L1Size, 32u); i++)
        {
            long at = h.L1TableOffset + i * 8L;
            if (at + 8 > file.Length) break;
            Add((long)(BinaryPrimitives.ReadUInt64BigEndian(file.AsSpan((int)at)) & Qcow2Constants.L1OffsetMask), cs);
        }
        for (int i = 0; i < 32; i++)
        {
            long at = h.RefcountTableOffset + i * 8L;
            if (at + 8 > file.Length || at >= h.RefcountTableOffset + h.RefcountTableClusters * cs) break;
            Add((long)(BinaryPrimitives.ReadUInt64BigEndian(file.AsSpan((int)at)) & Qcow2Constants.RefcountTableOffsetMask), cs);
        }
        return hot;
    }
}
