namespace Discemu.Formats.Cue;

/// <summary>CD time: minutes, seconds and frames (1/75 s), as CUE sheets and sector headers write addresses.</summary>
public static class Msf
{
    /// <summary>Splits a frame count into minutes, seconds and frames (no lead-in offset).</summary>
    public static (long Minutes, int Seconds, int Frames) Split(long frames)
    {
        long m = Math.DivRem(frames, CdConstants.FramesPerMinute, out long rest);
        return (m, (int)(rest / CdConstants.FramesPerSecond), (int)(rest % CdConstants.FramesPerSecond));
    }

    /// <summary>The absolute address (with the 2-second offset) of logical block <paramref name="lba"/>.</summary>
    public static (long Minutes, int Seconds, int Frames) FromLba(long lba) => Split(lba + CdConstants.MsfOffset);

    /// <summary>Formats a frame count as <c>mm:ss:ff</c> (no offset), as a CUE sheet writes it.</summary>
    public static string Format(long frames)
    {
        var (m, s, f) = Split(frames);
        return $"{m:00}:{s:00}:{f:00}";
    }

    /// <summary>Formats logical block <paramref name="lba"/> as its absolute <c>mm:ss:ff</c> address (LBA 0 is 00:02:00).</summary>
    public static string FormatLba(long lba) => Format(lba + CdConstants.MsfOffset);

    /// <summary>Parses <c>mm:ss:ff</c> (seconds below 60, frames below 75) into frames; false when malformed.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out long frames)
    {
        frames = 0;
        int c1 = text.IndexOf(':');
        if (c1 <= 0) return false;
        int c2 = text[(c1 + 1)..].IndexOf(':');
        if (c2 <= 0) return false;
        c2 += c1 + 1;
        if (!TryDigits(text[..c1], 3, out int m) || !TryDigits(text[(c1 + 1)..c2], 2, out int s) || !TryDigits(text[(c2 + 1)..], 2, out int f)) return false;
        if (s >= 60 || f >= CdConstants.FramesPerSecond) return false;
        frames = (long)m * CdConstants.FramesPerMinute + s * CdConstants.FramesPerSecond + f;
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<char> text, int maxDigits, out int value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > maxDigits) return false;
        foreach (char c in text)
        {
            if (c is < '0' or > '9') return false;
            value = value * 10 + (c - '0');
        }
        return true;
    }

    /// <summary>Encodes 0..99 as binary-coded decimal.</summary>
    internal static byte ToBcd(long value) => (byte)(value / 10 << 4 | value % 10);

    /// <summary>Decodes a BCD byte; -1 when a nibble is not a decimal digit.</summary>
    internal static int FromBcd(byte value) => (value >> 4) > 9 || (value & 0xF) > 9 ? -1 : (value >> 4) * 10 + (value & 0xF);
}
