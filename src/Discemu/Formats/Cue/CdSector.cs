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

    /// <summary>Multiplies by the primitive element a (x): one shift and a conditional reduction.</summary>
    private static int TimesAlpha(int v) => ((v << 1) & 0xFF) ^ ((v >> 7) * (GfPrimitive & 0xFF));

    /// <summary>True when every P and Q codeword of the raw sector has zero syndromes (its ECC is consistent).</summary>
    /// <remarks>
    /// For a codeword c_0 … c_(n-1), the syndromes are the plain sum and the sum of c_i·a^(n-1-i); the second is
    /// computed by Horner's rule (multiply the running sum by a, add the next symbol).
    /// </remarks>
    /// <exception cref="ArgumentException">The sector is not 2352 bytes.</exception>
    public static bool EccValid(ReadOnlySpan<byte> sector)
    {
        if (sector.Length != CdConstants.RawSectorSize) throw new ArgumentException("A raw sector is 2352 bytes.", nameof(sector));
        var region = sector[EccStart..];
        for (int plane = 0; plane < 2; plane++)
        {
            for (int col = 0; col < PColumns; col++)
            {
                int s0 = 0, s1 = 0;
                for (int row = 0; row < PRows + 2; row++)
                {
                    int v = region[2 * (col + PColumns * row) + plane];
                    s0 ^= v;
                    s1 = TimesAlpha(s1) ^ v;
                }
                if ((s0 | s1) != 0) return false;
            }
            for (int d = 0; d < QDiagonals; d++)
            {
                int s0 = 0, s1 = 0, word = PColumns * d;
                for (int k = 0; k < QLength; k++)
                {
                    int v = region[2 * word + plane];
                    s0 ^= v;
                    s1 = TimesAlpha(s1) ^ v;
                    word += PColumns + 1;
                    if (word >= QWordsCovered) word -= QWordsCovered;
                }
                for (int k = 0; k < 2; k++)
                {
                    int v = region[2 * (QWordsCovered + k * QDiagonals + d) + plane];
                    s0 ^= v;
                    s1 = TimesAlpha(s1) ^ v;
                }
                if ((s0 | s1) != 0) return false;
            }
        }
        return true;
    }
}
