using System.Buffers.Binary;
using System.Numerics;
using Discemu.Formats.Dmg;

namespace Discemu.Tests.Formats.Dmg;

/// <summary>Which LZFSE block shapes the test encoder writes.</summary>
public enum LzfseBlocks
{
    /// <summary>"bvx-" stored blocks.</summary>
    Stored,
    /// <summary>"bvxn" LZVN blocks.</summary>
    Lzvn,
    /// <summary>"bvx1" FSE blocks with plain headers.</summary>
    FseV1,
    /// <summary>"bvx2" FSE blocks with packed headers and frequency tables.</summary>
    FseV2,
    /// <summary>All four in turn.</summary>
    Mixed,
}

/// <summary>
/// A test-kit LZFSE encoder written from the format description: 32 KiB blocks of the chosen shapes, FSE blocks
/// encoded by running the decoder's state machine backwards (last symbol first, bits appended so the decoder,
/// reading from the end, meets them first), ending with "bvx$".
/// </summary>
internal static class LzfseEncoder
{
    private const int BlockSize = 32 << 10;
    private const int MaxL = 315, MaxM = 2359;

    public static byte[] Encode(ReadOnlySpan<byte> data, LzfseBlocks blocks)
    {
        var o = new List<byte>(data.Length / 2 + 64);
        int index = 0;
        for (int pos = 0; pos < data.Length; pos += BlockSize, index++)
        {
            var block = data.Slice(pos, Math.Min(BlockSize, data.Length - pos));
            var kind = blocks == LzfseBlocks.Mixed ? (LzfseBlocks)(index % 4) : blocks;
            switch (kind)
            {
                case LzfseBlocks.Stored:
                    Put32(o, 0x2D787662); Put32(o, (uint)block.Length); o.AddRange(block.ToArray());
                    break;
                case LzfseBlocks.Lzvn:
                    var payload = LzvnEncoder.Encode(block);
                    Put32(o, 0x6E787662); Put32(o, (uint)block.Length); Put32(o, (uint)payload.Length); o.AddRange(payload);
                    break;
                default:
                    o.AddRange(EncodeFseBlock(block, kind == LzfseBlocks.FseV2));
                    break;
            }
        }
        Put32(o, 0x24787662);
        return [.. o];
    }

    private static void Put32(List<byte> o, uint v) { o.Add((byte)v); o.Add((byte)(v >> 8)); o.Add((byte)(v >> 16)); o.Add((byte)(v >> 24)); }

    private static byte[] EncodeFseBlock(ReadOnlySpan<byte> data, bool v2)
    {
        // Triples (L, M, D) with L and M within the format's ranges; D = 0 repeats the previous distance.
        var triples = new List<(int L, int M, int D)>();
        var literals = new List<byte>();
        int prevD = -1;
        foreach (var step in LzMatcher.Parse(data, 4, MaxM, 262139))
        {
            int lit = step.LiteralLength, at = step.LiteralStart;
            for (int i = 0; i < lit; i++) literals.Add(data[at + i]);
            while (lit > MaxL || (step.MatchLength == 0 && lit > 0))
            {
                int l = Math.Min(lit, MaxL);
                int d = prevD > 0 ? 0 : 1;
                if (prevD <= 0) prevD = 1;
                triples.Add((l, 0, d));
                lit -= l;
            }
            if (step.MatchLength > 0)
            {
                triples.Add((lit, step.MatchLength, step.Distance == prevD ? 0 : step.Distance));
                prevD = step.Distance;
            }
        }
        while (literals.Count % 4 != 0) literals.Add(0);

        var lFreq = Normalize(triples.Select(t => Symbol(LzfseDecoder.LBase, t.L)), 20, 64);
        var mFreq = Normalize(triples.Select(t => Symbol(LzfseDecoder.MBase, t.M)), 20, 64);
        var dFreq = Normalize(triples.Select(t => Symbol(LzfseDecoder.DBase, t.D)), 64, 256);
        var litFreq = Normalize(literals.Select(b => (int)b), 256, 1024);

        // Literal stream: decoded four at a time with states 0..3, so encode in exactly the reverse order.
        var litBits = new BitWriter();
        var litStates = new int[4];
        for (int i = literals.Count - 1; i >= 0; i--)
            litStates[i & 3] = EncodeOne(litFreq, 1024, literals[i], litStates[i & 3], 0, 0, litBits);
        // L, M, D stream: decoded L then M then D per triple; encode D, M, L from the last triple back.
        var lmdBits = new BitWriter();
        int ls = 0, ms = 0, ds = 0;
        for (int i = triples.Count - 1; i >= 0; i--)
        {
            var (l, m, d) = triples[i];
            ds = EncodeValue(dFreq, 256, LzfseDecoder.DBase, LzfseDecoder.DExtraBits, d, ds, lmdBits);
            ms = EncodeValue(mFreq, 64, LzfseDecoder.MBase, LzfseDecoder.MExtraBits.ToArray(), m, ms, lmdBits);
            ls = EncodeValue(lFreq, 64, LzfseDecoder.LBase, LzfseDecoder.LExtraBits.ToArray(), l, ls, lmdBits);
        }
        var (litPayload, litPad) = litBits.Finish();
        var (lmdBitsBytes, lmdPad) = lmdBits.Finish();
        // As Apple's encoder does (and 7-Zip checks): 8 zero bytes precede the L, M, D bits, and both streams
        // are used up exactly.
        byte[] lmdPayload = [.. new byte[8], .. lmdBitsBytes];
        var freq = lFreq.Concat(mFreq).Concat(dFreq).Concat(litFreq).ToArray();

        byte[] header;
        if (!v2)
        {
            header = new byte[LzfseDecoder.V1HeaderSize];
            var h = header.AsSpan();
            BinaryPrimitives.WriteUInt32LittleEndian(h, 0x31787662);
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(h[8..], (uint)(litPayload.Length + lmdPayload.Length));
            BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)literals.Count);
            BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)triples.Count);
            BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)litPayload.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(h[24..], (uint)lmdPayload.Length);
            BinaryPrimitives.WriteInt32LittleEndian(h[28..], -litPad);
            for (int i = 0; i < 4; i++) BinaryPrimitives.WriteUInt16LittleEndian(h[(32 + 2 * i)..], (ushort)litStates[i]);
            BinaryPrimitives.WriteInt32LittleEndian(h[40..], -lmdPad);
            BinaryPrimitives.WriteUInt16LittleEndian(h[44..], (ushort)ls);
            BinaryPrimitives.WriteUInt16LittleEndian(h[46..], (ushort)ms);
            BinaryPrimitives.WriteUInt16LittleEndian(h[48..], (ushort)ds);
            for (int i = 0; i < freq.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(h[(50 + 2 * i)..], (ushort)freq[i]);
        }
        else
        {
            var table = new BitWriter();
            foreach (int f in freq)
            {
                if (f < 2) table.Push((ulong)f << 1, 2);
                else if (f < 4) table.Push(((ulong)(f - 2) << 2) | 1, 3);
                else if (f < 8) table.Push(((ulong)(f - 4) << 3) | 3, 5);
                else if (f < 24) table.Push(((ulong)(f - 8) << 4) | 7, 8);
                else table.Push(((ulong)(f - 24) << 4) | 15, 14);
            }
            var (tableBytes, _) = table.Finish();
            header = new byte[LzfseDecoder.V2FixedHeaderSize + tableBytes.Length];
            var h = header.AsSpan();
            BinaryPrimitives.WriteUInt32LittleEndian(h, 0x32787662);
            BinaryPrimitives.WriteUInt32LittleEndian(h[4..], (uint)data.Length);
            ulong v0 = U(literals.Count) | U(litPayload.Length) << 20 | U(triples.Count) << 40 | U(7 - litPad) << 60;
            ulong v1 = U(litStates[0]) | U(litStates[1]) << 10 | U(litStates[2]) << 20 | U(litStates[3]) << 30
                | U(lmdPayload.Length) << 40 | U(7 - lmdPad) << 60;
            ulong vv2 = U(header.Length) | U(ls) << 32 | U(ms) << 42 | U(ds) << 52;
            BinaryPrimitives.WriteUInt64LittleEndian(h[8..], v0);
            BinaryPrimitives.WriteUInt64LittleEndian(h[16..], v1);
            BinaryPrimitives.WriteUInt64LittleEndian(h[24..], vv2);
            tableBytes.CopyTo(h[32..]);
        }
        return [.. header, .. litPayload, .. lmdPayload];
    }

    private static ulong U(int v) => (uint)v;

    private static int Symbol(int[] bases, int value)
    {
        int s = 0;
        while (s + 1 < bases.Length && bases[s + 1] <= value) s++;
        return s;
    }

    /// <summary>Scales symbol counts to frequencies summing to <paramref name="states"/>, every used symbol at least 1.</summary>
    private static int[] Normalize(IEnumerable<int> symbols, int count, int states)
    {
        var counts = new long[count];
        long total = 0;
        foreach (int s in symbols) { counts[s]++; total++; }
        var freq = new int[count];
        if (total == 0)
        {
            // An unused stream still gets a full table (decoders such as 7-Zip's require one).
            freq[0] = states;
            return freq;
        }
        int sum = 0, largest = 0;
        for (int i = 0; i < count; i++)
        {
            if (counts[i] == 0) continue;
            freq[i] = Math.Max(1, (int)(counts[i] * states / total));
            sum += freq[i];
            if (counts[i] > counts[largest] || freq[largest] == 0) largest = i;
        }
        // Give or take the difference from the largest symbols (never below 1).
        while (sum != states)
        {
            int best = -1;
            for (int i = 0; i < count; i++)
                if (freq[i] > 0 && (sum < states || freq[i] > 1) && (best < 0 || freq[i] > freq[best])) best = i;
            int step = sum < states ? 1 : -1;
            freq[best] += step;
            sum += step;
        }
        return freq;
    }

    /// <summary>
    /// Finds the state of <paramref name="symbol"/> from which the decoder reaches <paramref name="next"/>, and
    /// writes the bits it will read there (with <paramref name="extraBits"/> value bits below them).
    /// </summary>
    private static int EncodeOne(int[] freq, int states, int symbol, int next, int extra, int extraBits, BitWriter bits)
    {
        int f = freq[symbol];
        int offset = 0;
        for (int i = 0; i < symbol; i++) offset += freq[i];
        int k = BitOperations.Log2((uint)states) - BitOperations.Log2((uint)f);
        int j0 = ((2 * states) >> k) - f;
        int threshold = (f << k) - states;
        int j, nb, b;
        if (next >= threshold) { j = ((next + states) >> k) - f; nb = k; b = next + states - ((f + j) << k); }
        else { j = j0 + (next >> (k - 1)); nb = k - 1; b = next - ((j - j0) << (k - 1)); }
        bits.Push(((ulong)b << extraBits) | (uint)extra, nb + extraBits);
        return offset + j;
    }

    private static int EncodeValue(int[] freq, int states, int[] bases, byte[] extra, int value, int next, BitWriter bits)
    {
        int s = Symbol(bases, value);
        return EncodeOne(freq, states, s, next, value - bases[s], extra[s], bits);
    }

    /// <summary>Appends bits least-significant first.</summary>
    private sealed class BitWriter
    {
        private readonly List<byte> _bytes = [];
        private ulong _accum;
        private int _count;

        public void Push(ulong value, int n)
        {
            if (n == 0) return;
            _accum |= value << _count;
            _count += n;
            while (_count >= 8) { _bytes.Add((byte)_accum); _accum >>= 8; _count -= 8; }
        }

        /// <summary>The bytes and the number of unused top bits of the last byte.</summary>
        public (byte[] Bytes, int Padding) Finish()
        {
            int pad = 0;
            if (_count > 0) { _bytes.Add((byte)_accum); pad = 8 - _count; _count = 0; }
            return ([.. _bytes], pad);
        }
    }
}
