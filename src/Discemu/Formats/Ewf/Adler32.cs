using System.Buffers.Binary;

namespace Discemu.Formats.Ewf;

/// <summary>The Adler-32 checksum (RFC 1950) that guards every EWF structure and uncompressed chunk.</summary>
internal static class Adler32
{
    private const uint Mod = 65521;
    // Largest n such that 255n(n+1)/2 + (n+1)(Mod-1) fits in 32 bits.
    private const int Block = 5552;

    /// <summary>Computes the checksum of <paramref name="data"/>, continuing from <paramref name="seed"/> (1 to start).</summary>
    public static uint Compute(ReadOnlySpan<byte> data, uint seed = 1)
    {
        uint a = seed & 0xffff, b = seed >> 16;
        while (data.Length > 0)
        {
            int n = Math.Min(data.Length, Block);
            var block = data[..n];
            int i = 0;
            for (; i + 8 <= n; i += 8)
            {
                a += block[i]; b += a;
                a += block[i + 1]; b += a;
                a += block[i + 2]; b += a;
                a += block[i + 3]; b += a;
                a += block[i + 4]; b += a;
                a += block[i + 5]; b += a;
                a += block[i + 6]; b += a;
                a += block[i + 7]; b += a;
            }
            for (; i < n; i++) { a += block[i]; b += a; }
            a %= Mod;
            b %= Mod;
            data = data[n..];
        }
        return (b << 16) | a;
    }

    /// <summary>True when the little-endian checksum stored at <paramref name="stored"/> matches <paramref name="data"/>.</summary>
    public static bool Matches(ReadOnlySpan<byte> data, ReadOnlySpan<byte> stored)
        => stored.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(stored) == Compute(data);
}
