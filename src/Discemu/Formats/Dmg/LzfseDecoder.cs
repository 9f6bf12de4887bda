using System.Buffers.Binary;

namespace Discemu.Formats.Dmg;

/// <summary>
/// LZFSE, the codec of ULFO images: a sequence of little-endian blocks, each starting with a magic — "bvx-"
/// (stored bytes), "bvxn" (LZVN), "bvx1" (LZFSE with a plain header) or "bvx2" (LZFSE with packed header fields
/// and prefix-coded frequency tables) — ending with "bvx$". An LZFSE block holds its literals as four interleaved
/// FSE streams and its (literal length, match length, distance) triples as three FSE value streams, both read
/// backwards from the end of their payloads.
/// </summary>
internal static class LzfseDecoder
{
    private const uint EndMagic = 0x24787662;          // "bvx$"
    private const uint UncompressedMagic = 0x2D787662; // "bvx-"
    private const uint V1Magic = 0x31787662;           // "bvx1"
    private const uint V2Magic = 0x32787662;           // "bvx2"
    private const uint LzvnMagic = 0x6E787662;         // "bvxn"

    internal const int LSymbols = 20, MSymbols = 20, DSymbols = 64, LiteralSymbols = 256;
    internal const int LStates = 64, MStates = 64, DStates = 256, LiteralStates = 1024;
    internal const int MaxMatchesPerBlock = 10000;
    internal const int MaxLiteralsPerBlock = 4 * MaxMatchesPerBlock;
    internal const int V1HeaderSize = 50 + 2 * (LSymbols + MSymbols + DSymbols + LiteralSymbols);
    internal const int V2FixedHeaderSize = 32;

    /// <summary>Extra bits of each L symbol (literal run length); the base values follow from them.</summary>
    internal static ReadOnlySpan<byte> LExtraBits => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 5, 8];

    /// <summary>Extra bits of each M symbol (match length).</summary>
    internal static ReadOnlySpan<byte> MExtraBits => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 8, 11];

    /// <summary>Extra bits of each D symbol (distance): four symbols per bit count, 0 to 15.</summary>
    internal static readonly byte[] DExtraBits = Enumerable.Range(0, DSymbols).Select(i => (byte)(i >> 2)).ToArray();

    internal static readonly int[] LBase = Bases(LExtraBits);
    internal static readonly int[] MBase = Bases(MExtraBits);
    internal static readonly int[] DBase = Bases(DExtraBits);

    /// <summary>Each symbol's base is the previous base plus the range of the previous symbol's extra bits.</summary>
    private static int[] Bases(ReadOnlySpan<byte> extra)
    {
        var b = new int[extra.Length];
        for (int i = 1; i < b.Length; i++) b[i] = b[i - 1] + (1 << extra[i - 1]);
        return b;
    }

    /// <summary>Decodes a whole LZFSE stream into <paramref name="output"/>; returns the bytes produced.</summary>
    /// <exception cref="CorruptImageException">A bad block, an overflow of <paramref name="output"/>, or no end-of-stream block.</exception>
    public static int Decode(ReadOnlySpan<byte> input, Span<byte> output, string? path = null)
    {
        int ip = 0, op = 0;
        BlockState? state = null;
        while (true)
        {
            if (input.Length - ip < 4) throw new CorruptImageException("LZFSE data ends without an end-of-stream block.", path);
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(input[ip..]);
            switch (magic)
            {
                case EndMagic:
                    return op;
                case UncompressedMagic:
                {
                    if (input.Length - ip < 8) throw new CorruptImageException("An LZFSE stored block header is truncated.", path);
                    uint n = BinaryPrimitives.ReadUInt32LittleEndian(input[(ip + 4)..]);
                    ip += 8;
                    if (n > input.Length - ip) throw new CorruptImageException("An LZFSE stored block runs past the end of the data.", path);
                    if (n > output.Length - op) throw new CorruptImageException("An LZFSE stored block overflows the output.", path);
                    input.Slice(ip, (int)n).CopyTo(output[op..]);
                    ip += (int)n;
                    op += (int)n;
                    break;
                }
                case LzvnMagic:
                {
                    if (input.Length - ip < 12) throw new CorruptImageException("An LZFSE LZVN block header is truncated.", path);
                    uint raw = BinaryPrimitives.ReadUInt32LittleEndian(input[(ip + 4)..]);
                    uint payload = BinaryPrimitives.ReadUInt32LittleEndian(input[(ip + 8)..]);
                    ip += 12;
                    if (payload > input.Length - ip) throw new CorruptImageException("An LZFSE LZVN block runs past the end of the data.", path);
                    if (raw > output.Length - op) throw new CorruptImageException("An LZFSE LZVN block overflows the output.", path);
                    int end = LzvnDecoder.Decode(input.Slice(ip, (int)payload), output[..(op + (int)raw)], op, path);
                    if (end != op + raw) throw new CorruptImageException($"An LZFSE LZVN block produced {end - op} bytes instead of {raw}.", path);
                    ip += (int)payload;
                    op = end;
                    break;
                }
                case V1Magic:
                case V2Magic:
                {
                    state ??= new BlockState();
                    var header = magic == V1Magic ? ReadV1(input[ip..], path) : ReadV2(input[ip..], path);
                    ip += header.HeaderSize;
                    if (header.LiteralPayload > input.Length - ip || header.LmdPayload > input.Length - ip - header.LiteralPayload)
                        throw new CorruptImageException("An LZFSE block runs past the end of the data.", path);
                    if (header.RawBytes > output.Length - op) throw new CorruptImageException("An LZFSE block overflows the output.", path);
                    var literals = input.Slice(ip, header.LiteralPayload);
                    var lmd = input.Slice(ip + header.LiteralPayload, header.LmdPayload);
                    int end = state.DecodeBlock(header, literals, lmd, output[..(op + header.RawBytes)], op, path);
                    if (end != op + header.RawBytes) throw new CorruptImageException($"An LZFSE block produced {end - op} bytes instead of {header.RawBytes}.", path);
                    ip += header.LiteralPayload + header.LmdPayload;
                    op = end;
                    break;
                }
                default:
                    throw new CorruptImageException($"Unknown LZFSE block magic 0x{magic:x8} at byte {ip}.", path);
            }
        }
    }

    /// <summary>The fields of a compressed block header, whichever version stored them.</summary>
    internal sealed class BlockHeader
    {
        public int HeaderSize;
        public int RawBytes;
        public int Literals;
        public int Matches;
        public int LiteralPayload;
        public int LmdPayload;
        public int LiteralBits;
        public int[] LiteralStates = new int[4];
        public int LmdBits;
        public int LState, MState, DState;
        public ushort[] Freq = new ushort[LSymbols + MSymbols + DSymbols + LiteralSymbols];
    }

    private static BlockHeader ReadV1(ReadOnlySpan<byte> b, string? path)
    {
        if (b.Length < V1HeaderSize) throw new CorruptImageException("An LZFSE v1 block header is truncated.", path);
        var h = new BlockHeader
        {
            HeaderSize = V1HeaderSize,
            RawBytes = Int(BinaryPrimitives.ReadUInt32LittleEndian(b[4..]), path),
            Literals = Int(BinaryPrimitives.ReadUInt32LittleEndian(b[12..]), path),
            Matches = Int(BinaryPrimitives.ReadUInt32LittleEndian(b[16..]), path),
            LiteralPayload = Int(BinaryPrimitives.ReadUInt32LittleEndian(b[20..]), path),
            LmdPayload = Int(BinaryPrimitives.ReadUInt32LittleEndian(b[24..]), path),
            LiteralBits = BinaryPrimitives.ReadInt32LittleEndian(b[28..]),
            LmdBits = BinaryPrimitives.ReadInt32LittleEndian(b[40..]),
            LState = BinaryPrimitives.ReadUInt16LittleEndian(b[44..]),
            MState = BinaryPrimitives.ReadUInt16LittleEndian(b[46..]),
            DState = BinaryPrimitives.ReadUInt16LittleEndian(b[48..]),
        };
        for (int i = 0; i < 4; i++) h.LiteralStates[i] = BinaryPrimitives.ReadUInt16LittleEndian(b[(32 + 2 * i)..]);
        for (int i = 0; i < h.Freq.Length; i++) h.Freq[i] = BinaryPrimitives.ReadUInt16LittleEndian(b[(50 + 2 * i)..]);
        return Check(h, path);
    }

    private static BlockHeader ReadV2(ReadOnlySpan<byte> b, string? path)
    {
        if (b.Length < V2FixedHeaderSize) throw new CorruptImageException("An LZFSE v2 block header is truncated.", path);
        ulong v0 = BinaryPrimitives.ReadUInt64LittleEndian(b[8..]);
        ulong v1 = BinaryPrimitives.ReadUInt64LittleEndian(b[16..]);
        ulong v2 = BinaryPrimitives.ReadUInt64LittleEndian(b[24..]);
        uint headerSize = (uint)v2;
        if (headerSize < V2FixedHeaderSize || headerSize > b.Length || headerSize > V1HeaderSize)
            throw new CorruptImageException($"LZFSE v2 header size {headerSize} is out of range.", path);
        var h = new BlockHeader
        {
            HeaderSize = (int)headerSize,
            RawBytes = Int(BinaryPrimitives.ReadUInt32LittleEndian(b[4..]), path),
            Literals = (int)Field(v0, 0, 20),
            LiteralPayload = (int)Field(v0, 20, 20),
            Matches = (int)Field(v0, 40, 20),
            LiteralBits = (int)Field(v0, 60, 3) - 7,
            LmdPayload = (int)Field(v1, 40, 20),
            LmdBits = (int)Field(v1, 60, 3) - 7,
            LState = (int)Field(v2, 32, 10),
            MState = (int)Field(v2, 42, 10),
            DState = (int)Field(v2, 52, 10),
        };
        for (int i = 0; i < 4; i++) h.LiteralStates[i] = (int)Field(v1, 10 * i, 10);
        ReadPackedFrequencies(b[V2FixedHeaderSize..(int)headerSize], h.Freq, path);
        return Check(h, path);
    }

    private static ulong Field(ulong v, int offset, int bits) => (v >> offset) & ((1UL << bits) - 1);

    /// <summary>
    /// The v2 frequency tables: values read least-significant bit first with a fixed prefix code — 2 bits for
    /// 0 and 1 (xx0), 3 bits for 2 and 3 (x01), 5 bits for 4 to 7 (xx011), 8 bits for 8 to 23 (4-bit value then
    /// 0111) and 14 bits for 24 to 1047 (10-bit value then 1111). An empty table section means all zeros.
    /// </summary>
    private static void ReadPackedFrequencies(ReadOnlySpan<byte> packed, ushort[] freq, string? path)
    {
        if (packed.IsEmpty) return;
        uint accum = 0;
        int bits = 0, at = 0;
        for (int i = 0; i < freq.Length; i++)
        {
            while (at < packed.Length && bits + 8 <= 32)
            {
                accum |= (uint)packed[at++] << bits;
                bits += 8;
            }
            int n;
            uint value;
            if ((accum & 1) == 0) { n = 2; value = (accum >> 1) & 1; }
            else if ((accum & 3) == 1) { n = 3; value = 2 + ((accum >> 2) & 1); }
            else if ((accum & 7) == 3) { n = 5; value = 4 + ((accum >> 3) & 3); }
            else if ((accum & 15) == 7) { n = 8; value = 8 + ((accum >> 4) & 0xF); }
            else { n = 14; value = 24 + ((accum >> 4) & 0x3FF); }
            if (n > bits) throw new CorruptImageException("LZFSE v2 frequency tables are truncated.", path);
            freq[i] = (ushort)value;
            accum >>= n;
            bits -= n;
        }
        if (bits >= 8 || at != packed.Length) throw new CorruptImageException("LZFSE v2 frequency tables do not end at the header's end.", path);
    }

    private static int Int(uint value, string? path)
        => value > int.MaxValue ? throw new CorruptImageException($"LZFSE block field {value} is out of range.", path) : (int)value;

    private static BlockHeader Check(BlockHeader h, string? path)
    {
        if (h.Literals > MaxLiteralsPerBlock) throw new CorruptImageException($"LZFSE block with {h.Literals} literals (at most {MaxLiteralsPerBlock}).", path);
        if (h.Matches > MaxMatchesPerBlock) throw new CorruptImageException($"LZFSE block with {h.Matches} matches (at most {MaxMatchesPerBlock}).", path);
        foreach (int s in h.LiteralStates)
            if (s >= LiteralStates) throw new CorruptImageException($"LZFSE literal state {s} is out of range.", path);
        if (h.LState >= LStates || h.MState >= MStates || h.DState >= DStates) throw new CorruptImageException("An LZFSE L, M or D state is out of range.", path);
        if (h.LiteralBits is < -7 or > 0 || h.LmdBits is < -7 or > 0) throw new CorruptImageException("LZFSE bit stream padding is out of range.", path);
        return h;
    }

    /// <summary>Decoding tables and the literal buffer, reused across the blocks of one stream.</summary>
    private sealed class BlockState
    {
        private readonly LzfseFse.Entry[] _lTable = new LzfseFse.Entry[LStates];
        private readonly LzfseFse.Entry[] _mTable = new LzfseFse.Entry[MStates];
        private readonly LzfseFse.Entry[] _dTable = new LzfseFse.Entry[DStates];
        private readonly LzfseFse.Entry[] _literalTable = new LzfseFse.Entry[LiteralStates];
        private readonly byte[] _literals = new byte[MaxLiteralsPerBlock + 4];

        /// <summary>Decodes one block's literals and triples into <paramref name="output"/> from <paramref name="start"/>; returns the end position.</summary>
        public int DecodeBlock(BlockHeader h, ReadOnlySpan<byte> literalPayload, ReadOnlySpan<byte> lmdPayload, Span<byte> output, int start, string? path)
        {
            var freq = h.Freq.AsSpan();
            LzfseFse.Build(freq[..LSymbols], _lTable, LExtraBits, LBase, path);
            LzfseFse.Build(freq.Slice(LSymbols, MSymbols), _mTable, MExtraBits, MBase, path);
            LzfseFse.Build(freq.Slice(LSymbols + MSymbols, DSymbols), _dTable, DExtraBits, DBase, path);
            LzfseFse.Build(freq[(LSymbols + MSymbols + DSymbols)..], _literalTable, [], [], path);

            // Literals: four interleaved states, four literals per round.
            int literalCount = (h.Literals + 3) & ~3;
            var bits = new LzfseFse.BackwardBits(literalPayload, -h.LiteralBits, path);
            int s0 = h.LiteralStates[0], s1 = h.LiteralStates[1], s2 = h.LiteralStates[2], s3 = h.LiteralStates[3];
            for (int i = 0; i < literalCount; i += 4)
            {
                _literals[i] = (byte)LzfseFse.DecodeSymbol(_literalTable, ref s0, ref bits, path);
                _literals[i + 1] = (byte)LzfseFse.DecodeSymbol(_literalTable, ref s1, ref bits, path);
                _literals[i + 2] = (byte)LzfseFse.DecodeSymbol(_literalTable, ref s2, ref bits, path);
                _literals[i + 3] = (byte)LzfseFse.DecodeSymbol(_literalTable, ref s3, ref bits, path);
            }

            // Triples: literal run L, match length M, distance D (0 keeps the previous distance).
            var lmd = new LzfseFse.BackwardBits(lmdPayload, -h.LmdBits, path);
            int ls = h.LState, ms = h.MState, ds = h.DState;
            int op = start, lit = 0, d = -1;
            for (int i = 0; i < h.Matches; i++)
            {
                int l = LzfseFse.DecodeValue(_lTable, ref ls, ref lmd, path);
                int m = LzfseFse.DecodeValue(_mTable, ref ms, ref lmd, path);
                int newD = LzfseFse.DecodeValue(_dTable, ref ds, ref lmd, path);
                if (newD != 0) d = newD;
                if (l > literalCount - lit) throw new CorruptImageException("An LZFSE literal run goes past the block's literals.", path);
                if (l > output.Length - op || m > output.Length - op - l) throw new CorruptImageException("An LZFSE block overflows its output.", path);
                if (d <= 0 || d > op + l - 0) throw new CorruptImageException($"An LZFSE match at output byte {op + l} has distance {d}.", path);
                _literals.AsSpan(lit, l).CopyTo(output[op..]);
                op += l;
                lit += l;
                if (m > 0) LzCopy.Match(output, op, d, m);
                op += m;
            }
            return op;
        }
    }
}
