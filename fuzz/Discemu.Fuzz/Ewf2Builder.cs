using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Discemu.Formats.Ewf;

namespace Discemu.Fuzz;

/// <summary>
/// Builds EWF2 (Ex01) segment sets from the libyal EWF2 specification, for tests and fuzz seeds: no
/// tool on this machine writes Ex01 (ewfacquire 20140813 falls back to EnCase 6 for encase7-v2).
/// Sections are 16-byte aligned data followed by a 64-byte descriptor pointing back to the previous one.
/// </summary>
internal static class Ewf2Builder
{
    /// <summary>How to lay out the set.</summary>
    public sealed record Options
    {
        public int SectorsPerChunk { get; init; } = 64;
        public int BytesPerSector { get; init; } = 512;
        public bool Compress { get; init; } = true;
        /// <summary>Store all-zero chunks as pattern fill (compressed + pattern flags).</summary>
        public bool PatternFillZeros { get; init; } = true;
        /// <summary>Chunks per segment file (0: all in one).</summary>
        public int ChunksPerSegment { get; init; }
        public string CaseNumber { get; init; } = "CASE-2";
        public string Examiner { get; init; } = "Examiner Two";
        public string Description { get; init; } = "EWF2 test image";
        public string EvidenceNumber { get; init; } = "EV-9";
        public string Notes { get; init; } = "built from the EWF2 specification";
        public IReadOnlyList<(long FirstSector, uint Count)> Errors { get; init; } = [];
        public bool WriteHashes { get; init; } = true;
    }

    /// <summary>Writes the set for <paramref name="media"/> starting at <paramref name="firstPath"/> (an .Ex01 name); returns the segment paths.</summary>
    public static List<string> Write(string firstPath, byte[] media, Options? options = null)
    {
        options ??= new Options();
        int chunkSize = options.SectorsPerChunk * options.BytesPerSector;
        int chunks = (media.Length + chunkSize - 1) / chunkSize;
        int perSegment = options.ChunksPerSegment > 0 ? options.ChunksPerSegment : Math.Max(chunks, 1);
        int segments = Math.Max(1, (chunks + perSegment - 1) / perSegment);
        var guid = Guid.NewGuid();
        var paths = new List<string>();
        for (int s = 0; s < segments; s++)
        {
            string path = s == 0 ? firstPath : EwfSegmentNames.For(firstPath, s + 1);
            paths.Add(path);
            using var f = new MemoryStream();
            var head = new byte[32];
            byte[] signature = [0x45, 0x56, 0x46, 0x32, 0x0d, 0x0a, 0x81, 0x00]; // "EVF2\r\n\x81\0"
            signature.CopyTo(head, 0);
            head[8] = 2;
            head[9] = 1;
            BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(10), (ushort)(options.Compress ? 1 : 0));
            BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(12), (uint)(s + 1));
            guid.TryWriteBytes(head.AsSpan(16));
            f.Write(head);
            long previous = 0;
            void Section(uint type, ReadOnlySpan<byte> data)
            {
                int pad = (16 - data.Length % 16) % 16;
                f.Write(data);
                f.Write(new byte[pad]);
                var d = new byte[64];
                BinaryPrimitives.WriteUInt32LittleEndian(d, type);
                BinaryPrimitives.WriteInt64LittleEndian(d.AsSpan(8), previous);
                BinaryPrimitives.WriteInt64LittleEndian(d.AsSpan(16), data.Length + pad);
                BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(24), 64);
                BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(28), (uint)pad);
                BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(60), Adler32.Compute(d.AsSpan(0, 60)));
                previous = f.Position;
                f.Write(d);
            }
            byte[] Text(string text)
            {
                var bytes = new byte[] { 0xff, 0xfe }.Concat(Encoding.Unicode.GetBytes(text)).ToArray();
                return options.Compress ? Zlib(bytes) : bytes;
            }
            string bp = options.BytesPerSector.ToString(System.Globalization.CultureInfo.InvariantCulture);
            long sectors = media.Length / options.BytesPerSector;
            Section(0x01, Text($"1\nmain\nsn\tmd\tlb\tts\ths\tdc\tdt\tpid\trs\tls\tbp\tph\nSN123\tModel X\t\t{sectors}\t0\t0\tf\t\t0\t0\t{bp}\t1\n\n"));
            Section(0x02, Text($"1\nmain\nnm\tcn\ten\tex\tnt\tav\tos\ttt\tat\ttb\tcp\tsb\tgr\twb\n{options.Description}\t{options.CaseNumber}\t{options.EvidenceNumber}\t{options.Examiner}\t{options.Notes}\t7.04\tLinux\t1700000000\t1700000000\t{chunks}\t{(options.Compress ? "1" : "")}\t{options.SectorsPerChunk}\t1\t\n\n"));
            int first = s * perSegment, last = Math.Min(chunks, first + perSegment);
            if (last > first)
            {
                var entries = new List<(long Offset, uint Size, uint Flags)>();
                using var data = new MemoryStream();
                long dataStart = f.Position;
                for (int c = first; c < last; c++)
                {
                    int len = Math.Min(chunkSize, media.Length - c * chunkSize);
                    var chunk = media.AsSpan(c * chunkSize, len);
                    if (options.PatternFillZeros && options.Compress && !chunk.ContainsAnyExcept((byte)0))
                    {
                        entries.Add((0, 0, 0x01 | 0x04));
                        continue;
                    }
                    byte[] stored;
                    uint flags;
                    if (options.Compress) { stored = Zlib(chunk.ToArray()); flags = 0x01; }
                    else
                    {
                        stored = new byte[len + 4];
                        chunk.CopyTo(stored);
                        BinaryPrimitives.WriteUInt32LittleEndian(stored.AsSpan(len), Adler32.Compute(chunk));
                        flags = 0x02;
                    }
                    entries.Add((dataStart + data.Position, (uint)stored.Length, flags));
                    data.Write(stored);
                    data.Write(new byte[(16 - stored.Length % 16) % 16]);
                }
                Section(0x03, data.ToArray());
                var table = new byte[32 + entries.Count * 16 + 4];
                BinaryPrimitives.WriteInt64LittleEndian(table, first);
                BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(8), (uint)entries.Count);
                BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(16), Adler32.Compute(table.AsSpan(0, 16)));
                for (int i = 0; i < entries.Count; i++)
                {
                    var e = table.AsSpan(32 + i * 16);
                    BinaryPrimitives.WriteInt64LittleEndian(e, entries[i].Offset);
                    BinaryPrimitives.WriteUInt32LittleEndian(e[8..], entries[i].Size);
                    BinaryPrimitives.WriteUInt32LittleEndian(e[12..], entries[i].Flags);
                }
                BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(32 + entries.Count * 16), Adler32.Compute(table.AsSpan(32, entries.Count * 16)));
                Section(0x04, table);
            }
            bool lastSegment = s == segments - 1;
            if (lastSegment)
            {
                if (options.Errors.Count > 0)
                {
                    var err = new byte[32 + options.Errors.Count * 16 + 4];
                    BinaryPrimitives.WriteUInt32LittleEndian(err, (uint)options.Errors.Count);
                    BinaryPrimitives.WriteUInt32LittleEndian(err.AsSpan(16), Adler32.Compute(err.AsSpan(0, 16)));
                    for (int i = 0; i < options.Errors.Count; i++)
                    {
                        BinaryPrimitives.WriteInt64LittleEndian(err.AsSpan(32 + i * 16), options.Errors[i].FirstSector);
                        BinaryPrimitives.WriteUInt32LittleEndian(err.AsSpan(40 + i * 16), options.Errors[i].Count);
                    }
                    BinaryPrimitives.WriteUInt32LittleEndian(err.AsSpan(32 + options.Errors.Count * 16), Adler32.Compute(err.AsSpan(32, options.Errors.Count * 16)));
                    Section(0x05, err);
                }
                if (options.WriteHashes)
                {
                    var md5 = MD5.HashData(media);
                    var sha1 = SHA1.HashData(media);
                    Section(0x08, [.. md5, .. BitConverter.GetBytes(Adler32.Compute(md5))]);
                    Section(0x09, [.. sha1, .. BitConverter.GetBytes(Adler32.Compute(sha1))]);
                }
            }
            Section(lastSegment ? 0x0fu : 0x0du, []);
            File.WriteAllBytes(path, f.ToArray());
        }
        return paths;
    }

    private static byte[] Zlib(byte[] data)
    {
        using var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return output.ToArray();
    }
}
