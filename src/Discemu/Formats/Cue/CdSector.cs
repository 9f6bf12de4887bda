namespace Discemu.Formats.Cue;

/// <summary>
/// The error detection and correction of CD-ROM data sectors (ECMA-130 clause 14 and Annex A): the EDC is a 32-bit
/// CRC with polynomial (x^16 + x^15 + x^2 + 1)(x^16 + x^2 + x + 1) processed least significant bit first; the ECC is
/// a product code of Reed-Solomon P and Q parity over GF(2^8) with the primitive polynomial x^8 + x^4 + x^3 + x^2 + 1.
/// </summary>
public static class CdSector
{
    // The EDC polynomial 0x8001801B with its bits reversed, for a right-shifting (LSB-first) CRC.
    private const uint EdcPolyReflected = 0xD8018001;
    private const int GfPrimitive = 0x11D;

    // Annex A: 1170 16-bit words from byte 12; P covers 43 columns x 24 rows, Q covers 26 diagonals x 43 words.
    private const int PColumns = 43;
    private const int PRows = 24;
    private const int QDiagonals = 26;
    private const int QLength = 43;
    private const int QWordsCovered = 1118;
    private const int EccStart = 12;

    private static readonly uint[] EdcTable = BuildEdcTable();
    private static readonly byte[] GfExp = new byte[512];
    private static readonly byte[] GfLog = new byte[256];

    static CdSector()
    {
        int x = 1;
        for (int i = 0; i < 255; i++)
        {
            GfExp[i] = (byte)x;
            GfLog[x] = (byte)i;
            x <<= 1;
            if ((x & 0x100) != 0) x ^= GfPrimitive;
        }
        for (int i = 255; i < 512; i++) GfExp[i] = GfExp[i - 255];
    }

    private static uint[] BuildEdcTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint r = i;
            for (int b = 0; b < 8; b++) r = (r & 1) != 0 ? (r >> 1) ^ EdcPolyReflected : r >> 1;
            t[i] = r;
        }
        return t;
    }

    /// <summary>Computes the EDC of <paramref name="data"/> (initial value 0, no final inversion).</summary>
    public static uint Edc(ReadOnlySpan<byte> data)
    {
        uint crc = 0;
        foreach (byte b in data) crc = (crc >> 8) ^ EdcTable[(crc ^ b) & 0xFF];
        return crc;
    }

    private static byte Mul(byte a, int logB) => a == 0 ? (byte)0 : GfExp[GfLog[a] + logB];

    private static int QWord(int diagonal, int k) => (PColumns * diagonal + (PColumns + 1) * k) % QWordsCovered;

    /// <summary>True when every P and Q codeword of the raw sector has zero syndromes (its ECC is consistent).</summary>
    /// <exception cref="ArgumentException">The sector is not 2352 bytes.</exception>
    public static bool EccValid(ReadOnlySpan<byte> sector)
    {
        if (sector.Length != CdConstants.RawSectorSize) throw new ArgumentException("A raw sector is 2352 bytes.", nameof(sector));
        var region = sector[EccStart..];
        for (int plane = 0; plane < 2; plane++)
        {
            for (int col = 0; col < PColumns; col++)
            {
                byte s0 = 0, s1 = 0;
                for (int row = 0; row < PRows + 2; row++)
                {
                    byte v = region[2 * (col + PColumns * row) + plane];
                    s0 ^= v;
                    s1 ^= Mul(v, PRows + 1 - row);
                }
                if (s0 != 0 || s1 != 0) return false;
            }
            for (int d = 0; d < QDiagonals; d++)
            {
                byte s0 = 0, s1 = 0;
                for (int k = 0; k < QLength; k++)
                {
                    byte v = region[2 * QWord(d, k) + plane];
                    s0 ^= v;
                    s1 ^= Mul(v, QLength + 1 - k);
                }
                byte q0 = region[2 * (QWordsCovered + d) + plane], q1 = region[2 * (QWordsCovered + QDiagonals + d) + plane];
                s0 ^= (byte)(q0 ^ q1);
                s1 ^= (byte)(Mul(q0, 1) ^ q1);
                if (s0 != 0 || s1 != 0) return false;
            }
        }
        return true;
    }
}
