using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Security;
using System.Text;
using SharpCompress.Compressors.BZip2;

namespace Discemu.Tests.Formats.Dmg;

/// <summary>How the test kit stores a chunk.</summary>
public enum ChunkCodec { Raw, Zlib, Bzip2, Lzma, Adc, Lzfse }

/// <summary>
/// The test kit's UDIF writer, independent of the driver (its own serialisation): splits a disk into
/// partitions and chunks, stores each chunk with the chosen codec (all-zero chunks as zero or ignore chunks),
/// and writes the data fork, the XML property list and/or a legacy resource fork, and the koly trailer with
/// hdiutil's checksums (partition CRC-32 over non-ignore chunks, master CRC-32 over those, data fork CRC-32).
/// </summary>
internal sealed class DmgBuilder
{
    public int ChunkSectors { get; init; } = 2048;
    public Func<int, ChunkCodec> Codec { get; init; } = _ => ChunkCodec.Zlib;
    public LzfseBlocks LzfseBlocks { get; init; } = LzfseBlocks.Mixed;
    public bool ZeroChunks { get; init; } = true;
    public bool IgnoreForZeros { get; init; }
    public bool Xml { get; init; } = true;
    public bool ResourceFork { get; init; }
    public bool DataForkChecksum { get; init; } = true;
    public bool Comments { get; init; } = true;
    /// <summary>Partitions as (name, first sector, sectors); null: one partition over the whole disk.</summary>
    public IReadOnlyList<(string Name, long Start, long Sectors)>? Partitions { get; init; }

    /// <summary>Chunk counts by codec of the last build (zero and ignore under their own names).</summary>
    public Dictionary<string, int> Counts { get; } = [];

    private sealed record Table(string Name, int Id, byte[] Mish, uint Crc);

    public byte[] Build(byte[] disk)
    {
        if (disk.Length % 512 != 0) throw new ArgumentException("The disk must be whole sectors.");
        long sectors = disk.Length / 512;
        var parts = Partitions ?? [("disk image (Apple_HFS : 1)", 0, sectors)];
        var dataFork = new MemoryStream();
        var tables = new List<Table>();
        int chunkIndex = 0;
        Counts.Clear();
        for (int p = 0; p < parts.Count; p++)
        {
            var (name, start, count) = parts[p];
            var entries = new List<(uint Type, long Start, long Count, long Offset, long Length)>();
            var crc = new Crc32();
            // Like the ignore chunks of hdiutil's images, entries without data point at the current data fork position.
            if (Comments) entries.Add((0x7FFFFFFE, 0, 0, dataFork.Position, 0));
            for (long s = 0; s < count; s += ChunkSectors)
            {
                long n = Math.Min(ChunkSectors, count - s);
                var data = disk.AsSpan((int)((start + s) * 512), (int)(n * 512));
                if (ZeroChunks && !data.ContainsAnyExcept((byte)0))
                {
                    bool ignore = IgnoreForZeros;
                    entries.Add((ignore ? 2u : 0u, s, n, dataFork.Position, 0));
                    if (!ignore) crc.Append(data);
                    Count(ignore ? "ignore" : "zero");
                    continue;
                }
                crc.Append(data);
                var codec = Codec(chunkIndex++);
                byte[] stored = Compress(codec, data.ToArray());
                entries.Add((TypeOf(codec), s, n, dataFork.Position, stored.Length));
                dataFork.Write(stored);
                Count(codec.ToString().ToLowerInvariant());
            }
            entries.Add((0xFFFFFFFF, count, 0, 0, 0));
            tables.Add(new Table(name, p - 1, Mish(start, count, crc.GetCurrentHashAsUInt32(), entries), crc.GetCurrentHashAsUInt32()));
        }

        var file = new MemoryStream();
        dataFork.Position = 0;
        dataFork.CopyTo(file);
        long dataLength = file.Length;
        long rsrcOffset = 0, rsrcLength = 0, xmlOffset = 0, xmlLength = 0;
        if (ResourceFork)
        {
            var fork = BuildResourceFork(tables);
            rsrcOffset = file.Position;
            rsrcLength = fork.Length;
            file.Write(fork);
        }
        if (Xml)
        {
            var xml = Encoding.UTF8.GetBytes(BuildPlist(tables));
            xmlOffset = file.Position;
            xmlLength = xml.Length;
            file.Write(xml);
        }
        var master = new Crc32();
        foreach (var t in tables) master.Append(BigEndian(t.Crc));
        var koly = new byte[512];
        var k = koly.AsSpan();
        "koly"u8.CopyTo(k);
        BinaryPrimitives.WriteUInt32BigEndian(k[4..], 4);
        BinaryPrimitives.WriteUInt32BigEndian(k[8..], 512);
        BinaryPrimitives.WriteUInt32BigEndian(k[12..], 1);
        BinaryPrimitives.WriteUInt64BigEndian(k[24..], 0);
        BinaryPrimitives.WriteUInt64BigEndian(k[32..], (ulong)dataLength);
        BinaryPrimitives.WriteUInt64BigEndian(k[40..], (ulong)rsrcOffset);
        BinaryPrimitives.WriteUInt64BigEndian(k[48..], (ulong)rsrcLength);
        BinaryPrimitives.WriteUInt32BigEndian(k[56..], 1);
        BinaryPrimitives.WriteUInt32BigEndian(k[60..], 1);
        Guid.NewGuid().TryWriteBytes(k.Slice(64, 16));
        if (DataForkChecksum)
        {
            BinaryPrimitives.WriteUInt32BigEndian(k[80..], 2);
            BinaryPrimitives.WriteUInt32BigEndian(k[84..], 32);
            BinaryPrimitives.WriteUInt32BigEndian(k[88..], Crc32.HashToUInt32(file.GetBuffer().AsSpan(0, (int)dataLength)));
        }
        BinaryPrimitives.WriteUInt64BigEndian(k[216..], (ulong)xmlOffset);
        BinaryPrimitives.WriteUInt64BigEndian(k[224..], (ulong)xmlLength);
        BinaryPrimitives.WriteUInt32BigEndian(k[352..], 2);
        BinaryPrimitives.WriteUInt32BigEndian(k[356..], 32);
        BinaryPrimitives.WriteUInt32BigEndian(k[360..], master.GetCurrentHashAsUInt32());
        BinaryPrimitives.WriteUInt32BigEndian(k[488..], 1);
        BinaryPrimitives.WriteUInt64BigEndian(k[492..], (ulong)sectors);
        file.Write(koly);
        return file.ToArray();
    }

    private void Count(string name) => Counts[name] = Counts.GetValueOrDefault(name) + 1;

    private static byte[] BigEndian(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return b;
    }

    private static uint TypeOf(ChunkCodec c) => c switch
    {
        ChunkCodec.Raw => 1,
        ChunkCodec.Adc => 0x80000004,
        ChunkCodec.Zlib => 0x80000005,
        ChunkCodec.Bzip2 => 0x80000006,
        ChunkCodec.Lzfse => 0x80000007,
        ChunkCodec.Lzma => 0x80000008,
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    private byte[] Compress(ChunkCodec codec, byte[] data)
    {
        switch (codec)
        {
            case ChunkCodec.Raw: return data;
            case ChunkCodec.Zlib:
            {
                var ms = new MemoryStream();
                using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
                return ms.ToArray();
            }
            case ChunkCodec.Bzip2:
            {
                var ms = new MemoryStream();
                using (var b = BZip2Stream.Create(ms, SharpCompress.Compressors.CompressionMode.Compress, false, true, false)) b.Write(data);
                return ms.ToArray();
            }
            case ChunkCodec.Lzma: return XzEncoder.Encode(data);
            case ChunkCodec.Adc: return AdcEncoder.Encode(data);
            case ChunkCodec.Lzfse: return LzfseEncoder.Encode(data, LzfseBlocks);
            default: throw new ArgumentOutOfRangeException(nameof(codec));
        }
    }

    private static byte[] Mish(long start, long count, uint crc, List<(uint Type, long Start, long Count, long Offset, long Length)> entries)
    {
        var b = new byte[204 + 40 * entries.Count];
        var s = b.AsSpan();
        "mish"u8.CopyTo(s);
        BinaryPrimitives.WriteUInt32BigEndian(s[4..], 1);
        BinaryPrimitives.WriteUInt64BigEndian(s[8..], (ulong)start);
        BinaryPrimitives.WriteUInt64BigEndian(s[16..], (ulong)count);
        BinaryPrimitives.WriteUInt32BigEndian(s[32..], 2056);
        BinaryPrimitives.WriteUInt32BigEndian(s[64..], 2);
        BinaryPrimitives.WriteUInt32BigEndian(s[68..], 32);
        BinaryPrimitives.WriteUInt32BigEndian(s[72..], crc);
        BinaryPrimitives.WriteUInt32BigEndian(s[200..], (uint)entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            var e = s[(204 + 40 * i)..];
            BinaryPrimitives.WriteUInt32BigEndian(e, entries[i].Type);
            BinaryPrimitives.WriteUInt64BigEndian(e[8..], (ulong)entries[i].Start);
            BinaryPrimitives.WriteUInt64BigEndian(e[16..], (ulong)entries[i].Count);
            BinaryPrimitives.WriteUInt64BigEndian(e[24..], (ulong)entries[i].Offset);
            BinaryPrimitives.WriteUInt64BigEndian(e[32..], (ulong)entries[i].Length);
        }
        return b;
    }

    private static string BuildPlist(List<Table> tables)
    {
        var sb = new StringBuilder();
        sb.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.Append("<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n");
        sb.Append("<plist version=\"1.0\">\n<dict>\n\t<key>resource-fork</key>\n\t<dict>\n\t\t<key>blkx</key>\n\t\t<array>\n");
        foreach (var t in tables)
        {
            string name = SecurityElement.Escape(t.Name);
            sb.Append("\t\t\t<dict>\n\t\t\t\t<key>Attributes</key>\n\t\t\t\t<string>0x0050</string>\n");
            sb.Append($"\t\t\t\t<key>CFName</key>\n\t\t\t\t<string>{name}</string>\n");
            sb.Append("\t\t\t\t<key>Data</key>\n\t\t\t\t<data>\n");
            string b64 = Convert.ToBase64String(t.Mish);
            for (int i = 0; i < b64.Length; i += 44) sb.Append("\t\t\t\t").Append(b64.AsSpan(i, Math.Min(44, b64.Length - i))).Append('\n');
            sb.Append("\t\t\t\t</data>\n");
            sb.Append($"\t\t\t\t<key>ID</key>\n\t\t\t\t<string>{t.Id}</string>\n");
            sb.Append($"\t\t\t\t<key>Name</key>\n\t\t\t\t<string>{name}</string>\n\t\t\t</dict>\n");
        }
        sb.Append("\t\t</array>\n\t</dict>\n</dict>\n</plist>\n");
        return sb.ToString();
    }

    /// <summary>A classic resource fork holding the blkx resources: header, data (length-prefixed), map with type list, references and names.</summary>
    private static byte[] BuildResourceFork(List<Table> tables)
    {
        var data = new MemoryStream();
        var dataOffsets = new List<int>();
        foreach (var t in tables)
        {
            dataOffsets.Add((int)data.Position);
            var len = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(len, (uint)t.Mish.Length);
            data.Write(len);
            data.Write(t.Mish);
        }
        var names = new MemoryStream();
        var nameOffsets = new List<int>();
        foreach (var t in tables)
        {
            nameOffsets.Add((int)names.Position);
            var bytes = Encoding.Latin1.GetBytes(t.Name);
            names.WriteByte((byte)Math.Min(255, bytes.Length));
            names.Write(bytes, 0, Math.Min(255, bytes.Length));
        }
        const int mapHeader = 28;
        int typeListSize = 2 + 8 + 12 * tables.Count;
        var map = new byte[mapHeader + typeListSize + names.Length];
        var m = map.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(m[24..], mapHeader);
        BinaryPrimitives.WriteUInt16BigEndian(m[26..], (ushort)(mapHeader + typeListSize));
        var typeList = m[mapHeader..];
        BinaryPrimitives.WriteUInt16BigEndian(typeList, 0); // one type
        "blkx"u8.CopyTo(typeList[2..]);
        BinaryPrimitives.WriteUInt16BigEndian(typeList[6..], (ushort)(tables.Count - 1));
        BinaryPrimitives.WriteUInt16BigEndian(typeList[8..], 10);
        for (int i = 0; i < tables.Count; i++)
        {
            var r = typeList[(10 + 12 * i)..];
            BinaryPrimitives.WriteInt16BigEndian(r, (short)tables[i].Id);
            BinaryPrimitives.WriteUInt16BigEndian(r[2..], (ushort)nameOffsets[i]);
            r[4] = 0x50;
            r[5] = (byte)(dataOffsets[i] >> 16);
            r[6] = (byte)(dataOffsets[i] >> 8);
            r[7] = (byte)dataOffsets[i];
        }
        names.ToArray().CopyTo(m[(mapHeader + typeListSize)..]);
        const int headerSize = 256; // classic forks put the data after a 256-byte header area
        var fork = new byte[headerSize + data.Length + map.Length];
        var f = fork.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(f, headerSize);
        BinaryPrimitives.WriteUInt32BigEndian(f[4..], (uint)(headerSize + data.Length));
        BinaryPrimitives.WriteUInt32BigEndian(f[8..], (uint)data.Length);
        BinaryPrimitives.WriteUInt32BigEndian(f[12..], (uint)map.Length);
        data.ToArray().CopyTo(f[headerSize..]);
        f[..16].CopyTo(m); // the map starts with a copy of the header
        map.CopyTo(f[(headerSize + (int)data.Length)..]);
        return fork;
    }
}
