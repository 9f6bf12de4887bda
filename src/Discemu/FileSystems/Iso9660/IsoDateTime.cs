namespace Discemu.FileSystems.Iso9660;

/// <summary>
/// The two date forms of ECMA-119: the 7-byte recording date of directory records (9.1.5) and the 17-byte
/// date of volume descriptors (8.4.26.1); RRIP's TF entry uses either. An unspecified (all-zero) or
/// invalid date reads as null: a bad time never makes an entry unreadable.
/// </summary>
internal static class IsoDateTime
{
    /// <summary>Length of the short form.</summary>
    public const int ShortLength = 7;

    /// <summary>Length of the long form.</summary>
    public const int LongLength = 17;

    private static ReadOnlySpan<byte> FieldWidths => [4, 2, 2, 2, 2, 2, 2];

    /// <summary>Parses the 7-byte form: years since 1900, month, day, hour, minute, second, GMT offset in 15-minute units.</summary>
    public static DateTimeOffset? ReadShort(ReadOnlySpan<byte> b)
    {
        if (b.Length < ShortLength) return null;
        if (b[..6].IndexOfAnyExcept((byte)0) < 0) return null;
        return Make(1900 + b[0], b[1], b[2], b[3], b[4], b[5], 0, (sbyte)b[6]);
    }

    /// <summary>Parses the 17-byte form: 16 ASCII digits YYYYMMDDhhmmsscc and a GMT offset in 15-minute units.</summary>
    public static DateTimeOffset? ReadLong(ReadOnlySpan<byte> b)
    {
        if (b.Length < LongLength) return null;
        Span<int> v = stackalloc int[7];
        var widths = FieldWidths;
        int pos = 0;
        for (int i = 0; i < widths.Length; i++)
        {
            int n = 0;
            for (int j = 0; j < widths[i]; j++, pos++)
            {
                byte c = b[pos];
                if (c is < (byte)'0' or > (byte)'9') return null; // includes the all-NUL "not specified" form
                n = n * 10 + (c - '0');
            }
            v[i] = n;
        }
        if (v[0] == 0) return null; // "0000000000000000": not specified
        return Make(v[0], v[1], v[2], v[3], v[4], v[5], v[6] * 10, (sbyte)b[16]);
    }

    private static DateTimeOffset? Make(int year, int month, int day, int hour, int minute, int second, int millisecond, sbyte offset)
    {
        if (year is < 1 or > 9999 || month is < 1 or > 12 || hour > 23 || minute > 59 || second > 59 || millisecond > 999) return null;
        if (day < 1 || day > DateTime.DaysInMonth(year, month)) return null;
        if (offset is < -48 or > 52) offset = 0; // out of the allowed range: read as GMT, as Linux does
        try
        {
            return new DateTimeOffset(year, month, day, hour, minute, second, millisecond, TimeSpan.FromMinutes(offset * 15));
        }
        catch (ArgumentOutOfRangeException)
        {
            return null; // the offset pushes the date outside the representable range
        }
    }
}

/// <summary>Writers of the two ECMA-119 date forms, in UTC (offset 0).</summary>
internal static class IsoDateTimeWriter
{
    /// <summary>Writes the 7-byte form of <paramref name="unixSeconds"/> (years 1900–2155; outside, the nearest end).</summary>
    public static void WriteShort(Span<byte> b, long unixSeconds)
    {
        var t = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(unixSeconds, -2208988800L, 5996851199L)).UtcDateTime;
        b[0] = (byte)(t.Year - 1900);
        b[1] = (byte)t.Month;
        b[2] = (byte)t.Day;
        b[3] = (byte)t.Hour;
        b[4] = (byte)t.Minute;
        b[5] = (byte)t.Second;
        b[6] = 0;
    }

    /// <summary>Writes the 17-byte form "YYYYMMDDhhmmsscc" + offset 0, or the "not specified" form (16 '0' digits) when null.</summary>
    public static void WriteLong(Span<byte> b, DateTimeOffset? time)
    {
        string text = time is { } t ? t.UtcDateTime.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) + "00" : "0000000000000000";
        for (int i = 0; i < 16; i++) b[i] = (byte)text[i];
        b[16] = 0;
    }
}
