namespace Discemu.Formats.Vhd;

/// <summary>A block's sector bitmap: one bit per 512-byte sector, the most significant bit of byte 0 first.</summary>
internal static class VhdBitmap
{
    /// <summary>True when sector <paramref name="sector"/> is present in this layer.</summary>
    public static bool Get(ReadOnlySpan<byte> bitmap, int sector) => (bitmap[sector >> 3] & (0x80 >> (sector & 7))) != 0;

    /// <summary>How many sectors from <paramref name="start"/> (at most <paramref name="max"/>) share its bit, and that bit.</summary>
    public static int Run(ReadOnlySpan<byte> bitmap, int start, int max, out bool set)
    {
        set = Get(bitmap, start);
        byte whole = set ? (byte)0xFF : (byte)0;
        int i = start + 1, end = start + max;
        while (i < end)
        {
            if ((i & 7) == 0 && end - i >= 8)
            {
                int bytes = (end - i) >> 3;
                int k = bitmap.Slice(i >> 3, bytes).IndexOfAnyExcept(whole);
                if (k < 0) { i += bytes << 3; continue; }
                i += k << 3;
            }
            if (Get(bitmap, i) != set) break;
            i++;
        }
        return Math.Min(i, end) - start;
    }

    /// <summary>Sets sectors [<paramref name="from"/>, <paramref name="to"/>); true when a bit changed.</summary>
    public static bool Set(Span<byte> bitmap, int from, int to) => Change(bitmap, from, to, true);

    /// <summary>Clears sectors [<paramref name="from"/>, <paramref name="to"/>); true when a bit changed.</summary>
    public static bool Clear(Span<byte> bitmap, int from, int to) => Change(bitmap, from, to, false);

    private static bool Change(Span<byte> bitmap, int from, int to, bool value)
    {
        bool changed = false;
        int i = from;
        while (i < to)
        {
            if ((i & 7) == 0 && to - i >= 8)
            {
                int bytes = (to - i) >> 3;
                var span = bitmap.Slice(i >> 3, bytes);
                byte fill = value ? (byte)0xFF : (byte)0;
                if (span.ContainsAnyExcept(fill)) { span.Fill(fill); changed = true; }
                i += bytes << 3;
                continue;
            }
            int mask = 0x80 >> (i & 7);
            byte old = bitmap[i >> 3];
            byte now = value ? (byte)(old | mask) : (byte)(old & ~mask);
            if (now != old) { bitmap[i >> 3] = now; changed = true; }
            i++;
        }
        return changed;
    }

    /// <summary>True when no sector of the bitmap is present.</summary>
    public static bool IsEmpty(ReadOnlySpan<byte> bitmap) => !bitmap.ContainsAnyExcept((byte)0);
}
