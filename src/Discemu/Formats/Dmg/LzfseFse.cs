using System.Buffers.Binary;
using System.Numerics;

namespace Discemu.Formats.Dmg;

/// <summary>
/// The finite-state-entropy (tANS) pieces of LZFSE: decoding tables built from normalised symbol frequencies
/// and the backward bit reader. A symbol with frequency f owns f consecutive states (symbols in order); each
/// state reads k or k-1 bits (k makes f·2^k fall in [N, 2N) for N states) and adds them to a base to get the
/// next state. Value tables (for the L, M, D streams) also read a symbol's extra bits and add its base value.
/// </summary>
internal static class LzfseFse
{
    /// <summary>One decoding state: bits to read, the base of the next state, the symbol (or value base) and extra value bits.</summary>
    public struct Entry
    {
        public byte StateBits;
        public byte ValueBits;
        public bool Valid;
        public int NextBase;
        public int Symbol;
    }

    /// <summary>
    /// Builds <paramref name="table"/> (its length, a power of two, is the number of states) from <paramref name="freq"/>. With
    /// value bases and extra bits the entries decode values; without, they decode symbols. States past the sum
    /// of the frequencies are left invalid.
    /// </summary>
    /// <exception cref="CorruptImageException">The frequencies add up to more than the number of states.</exception>
    public static void Build(ReadOnlySpan<ushort> freq, Entry[] table, ReadOnlySpan<byte> valueBits, ReadOnlySpan<int> valueBase, string? path)
    {
        int states = table.Length;
        int log2States = BitOperations.Log2((uint)states);
        Array.Clear(table);
        int next = 0;
        for (int symbol = 0; symbol < freq.Length; symbol++)
        {
            int f = freq[symbol];
            if (f == 0) continue;
            if (f > states - next) throw new CorruptImageException($"LZFSE frequencies add up to more than {states} states.", path);
            int k = log2States - BitOperations.Log2((uint)f);
            int j0 = ((2 * states) >> k) - f;
            byte vbits = valueBits.IsEmpty ? (byte)0 : valueBits[symbol];
            int sym = valueBase.IsEmpty ? symbol : valueBase[symbol];
            for (int j = 0; j < f; j++)
            {
                ref var e = ref table[next + j];
                e.Valid = true;
                e.ValueBits = vbits;
                e.Symbol = sym;
                if (j < j0)
                {
                    e.StateBits = (byte)k;
                    e.NextBase = ((f + j) << k) - states;
                }
                else
                {
                    e.StateBits = (byte)(k - 1);
                    e.NextBase = (j - j0) << (k - 1);
                }
            }
            next += f;
        }
    }

    /// <summary>
    /// Reads bits backwards from the end of a payload: the encoder appended bits least-significant first, so the
    /// decoder takes them from the most significant end. The last byte may hold up to 7 unused (zero) top bits.
    /// </summary>
    public ref struct BackwardBits
    {
        private readonly ReadOnlySpan<byte> _data;
        private long _position; // bits not yet read: stream bits [0, _position)

        /// <summary>Starts at the end of <paramref name="data"/>, less <paramref name="unusedBits"/> (0 to 7) padding bits.</summary>
        /// <exception cref="CorruptImageException">The padding is out of range or not zero.</exception>
        public BackwardBits(ReadOnlySpan<byte> data, int unusedBits, string? path)
        {
            if (unusedBits is < 0 or > 7) throw new CorruptImageException($"LZFSE bit stream padding of {unusedBits} bits is out of range.", path);
            if (unusedBits > 0 && (data.IsEmpty || data[^1] >> (8 - unusedBits) != 0))
                throw new CorruptImageException("LZFSE bit stream padding bits are not zero.", path);
            _data = data;
            _position = data.Length * 8L - unusedBits;
            if (_position < 0) throw new CorruptImageException("LZFSE bit stream is empty.", path);
        }

        /// <summary>Reads <paramref name="count"/> bits (0 to 32).</summary>
        /// <exception cref="CorruptImageException">The stream is exhausted.</exception>
        public uint Read(int count, string? path)
        {
            if (count == 0) return 0;
            if (count > _position) throw new CorruptImageException("LZFSE bit stream is exhausted.", path);
            _position -= count;
            int byteIndex = (int)(_position >> 3);
            int shift = (int)(_position & 7);
            ulong window;
            if (byteIndex + 8 <= _data.Length) window = BinaryPrimitives.ReadUInt64LittleEndian(_data[byteIndex..]);
            else
            {
                window = 0;
                for (int i = Math.Min(_data.Length - byteIndex, 8) - 1; i >= 0; i--) window = (window << 8) | _data[byteIndex + i];
            }
            return (uint)((window >> shift) & ((1UL << count) - 1));
        }
    }

    /// <summary>Decodes one symbol and moves <paramref name="state"/> on.</summary>
    public static int DecodeSymbol(Entry[] table, ref int state, ref BackwardBits bits, string? path)
    {
        ref var e = ref table[state];
        if (!e.Valid) throw new CorruptImageException($"LZFSE state {state} belongs to no symbol.", path);
        state = e.NextBase + (int)bits.Read(e.StateBits, path);
        return e.Symbol;
    }

    /// <summary>Decodes one value (base plus extra bits) and moves <paramref name="state"/> on.</summary>
    public static int DecodeValue(Entry[] table, ref int state, ref BackwardBits bits, string? path)
    {
        ref var e = ref table[state];
        if (!e.Valid) throw new CorruptImageException($"LZFSE state {state} belongs to no symbol.", path);
        uint v = bits.Read(e.StateBits + e.ValueBits, path);
        state = e.NextBase + (int)(v >> e.ValueBits);
        return e.Symbol + (int)(v & ((1u << e.ValueBits) - 1));
    }
}
