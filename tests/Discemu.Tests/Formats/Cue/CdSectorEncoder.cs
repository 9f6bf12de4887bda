using System.Buffers.Binary;

namespace Discemu.Tests.Formats.Cue;

/// <summary>
/// The test kit's own CD-ROM sector encoder, written from ECMA-130 (clause 14, Annex A) independently of the library's
/// checker: the EDC is computed bit by bit, and the P and Q parity as the remainder of dividing the data polynomial
/// (times x^2) by the generator (x + 1)(x + a) over GF(2^8) with x^8 + x^4 + x^3 + x^2 + 1, multiplying bit by bit.
/// (The library checks syndromes against the check matrix instead.)
/// </summary>
internal static class CdSectorEncoder
{
    public const int Raw = 2352;

    public static byte[] SyncPattern => [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];

    /// <summary>EDC: polynomial x^32 + x^31 + x^16 + x^15 + x^4 + x^3 + x + 1, least significant bit first, start 0.</summary>
    public static uint Edc(ReadOnlySpan<byte> data)
    {
        uint r = 0;
        foreach (byte b in data)
        {
            r ^= b;
            for (int i = 0; i < 8; i++) r = (r >> 1) ^ ((r & 1) * 0xD8018001u);
        }
        return r;
    }

    private static byte GfMul(byte a, byte b)
    {
        int p = 0, x = a;
        for (int i = 0; i < 8; i++)
        {
            if ((b >> i & 1) != 0) p ^= x;
            x <<= 1;
            if ((x & 0x100) != 0) x ^= 0x11D;
        }
        return (byte)p;
    }

    /// <summary>Systematic RS encoding with g(x) = (x + 1)(x + 2) = x^2 + 3x + 2: returns the two parity symbols.</summary>
    private static (byte, byte) RsParity(IEnumerable<byte> data)
    {
        // Shift register division of d(x)·x^2 by g(x).
        byte r0 = 0, r1 = 0;
        foreach (byte d in data)
        {
            byte feedback = (byte)(d ^ r0);
            r0 = (byte)(r1 ^ GfMul(feedback, 3));
            r1 = GfMul(feedback, 2);
        }
        return (r0, r1);
    }

    /// <summary>Fills bytes 2076..2351 (P then Q parity) from bytes 12..2075.</summary>
    public static void Ecc(Span<byte> sector)
    {
        var s = sector.ToArray();
        for (int plane = 0; plane < 2; plane++)
        {
            for (int col = 0; col < 43; col++)
            {
                var column = Enumerable.Range(0, 24).Select(row => s[12 + 2 * (col + 43 * row) + plane]).ToArray();
                var (p0, p1) = RsParity(column);
                s[12 + 2 * (col + 43 * 24) + plane] = p0;
                s[12 + 2 * (col + 43 * 25) + plane] = p1;
            }
            for (int d = 0; d < 26; d++)
            {
                var diagonal = Enumerable.Range(0, 43).Select(k => s[12 + 2 * ((43 * d + 44 * k) % 1118) + plane]).ToArray();
                var (q0, q1) = RsParity(diagonal);
                s[12 + 2 * (1118 + d) + plane] = q0;
                s[12 + 2 * (1118 + 26 + d) + plane] = q1;
            }
        }
        s.AsSpan(2076).CopyTo(sector[2076..]);
    }

    private static byte Bcd(int v) => (byte)((v / 10 << 4) | (v % 10));

    public static void Header(Span<byte> sector, long lba, byte mode)
    {
        SyncPattern.CopyTo(sector);
        long a = lba + 150;
        sector[12] = Bcd((int)(a / 4500));
        sector[13] = Bcd((int)(a / 75 % 60));
        sector[14] = Bcd((int)(a % 75));
        sector[15] = mode;
    }

    /// <summary>A Mode 1 raw sector around 2048 bytes of user data.</summary>
    public static byte[] Mode1(ReadOnlySpan<byte> user, long lba)
    {
        var s = new byte[Raw];
        Header(s, lba, 1);
        user.CopyTo(s.AsSpan(16));
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(2064), Edc(s.AsSpan(0, 2064)));
        Ecc(s);
        return s;
    }

    /// <summary>A Mode 2 Form 1 raw sector (XA): subheader twice, 2048 bytes, EDC over 16..2071, ECC with a zero header.</summary>
    public static byte[] Form1(ReadOnlySpan<byte> user, long lba, byte submode = 0x08)
    {
        var s = new byte[Raw];
        Header(s, lba, 2);
        byte[] sub = [0, 0, submode, 0];
        sub.CopyTo(s.AsSpan(16));
        sub.CopyTo(s.AsSpan(20));
        user.CopyTo(s.AsSpan(24));
        BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(2072), Edc(s.AsSpan(16, 2056)));
        var header = s.AsSpan(12, 4).ToArray();
        s.AsSpan(12, 4).Clear();
        Ecc(s);
        header.CopyTo(s.AsSpan(12));
        return s;
    }

    /// <summary>A Mode 2 Form 2 raw sector: 2324 bytes of data and, unless <paramref name="edc"/> is false, the EDC over 16..2347.</summary>
    public static byte[] Form2(ReadOnlySpan<byte> user, long lba, bool edc = true)
    {
        var s = new byte[Raw];
        Header(s, lba, 2);
        byte[] sub = [0, 0, 0x20, 0];
        sub.CopyTo(s.AsSpan(16));
        sub.CopyTo(s.AsSpan(20));
        user.CopyTo(s.AsSpan(24));
        if (edc) BinaryPrimitives.WriteUInt32LittleEndian(s.AsSpan(2348), Edc(s.AsSpan(16, 2332)));
        return s;
    }

    /// <summary>Encodes a whole ISO (2048-byte sectors) as Mode 1 raw sectors from <paramref name="firstLba"/>.</summary>
    public static byte[] Mode1Image(byte[] iso, long firstLba = 0)
    {
        int n = iso.Length / 2048;
        var bin = new byte[(long)n * Raw];
        for (int i = 0; i < n; i++) Mode1(iso.AsSpan(i * 2048, 2048), firstLba + i).CopyTo(bin, (long)i * Raw);
        return bin;
    }

    /// <summary>Encodes a whole ISO as Mode 2 Form 1 raw sectors.</summary>
    public static byte[] Form1Image(byte[] iso, long firstLba = 0)
    {
        int n = iso.Length / 2048;
        var bin = new byte[(long)n * Raw];
        for (int i = 0; i < n; i++) Form1(iso.AsSpan(i * 2048, 2048), firstLba + i).CopyTo(bin, (long)i * Raw);
        return bin;
    }
}
