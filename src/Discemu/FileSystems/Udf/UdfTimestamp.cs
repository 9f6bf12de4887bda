using System.Buffers.Binary;

namespace Discemu.FileSystems.Udf;

/// <summary>A timestamp (ECMA-167 1/7.3): type and time zone, year, month, day, time down to microseconds.</summary>
internal static class UdfTimestamp
{
    /// <summary>The size of a timestamp.</summary>
    public const int Size = 12;
    private const int NoTimeZone = -2047;
    /// <summary>The widest offset <see cref="DateTimeOffset"/> takes (ECMA-167 allows ±1440 minutes; wider ones are read as UTC).</summary>
    private const int MaxZoneMinutes = 14 * 60;

    /// <summary>The time, or null when the fields are out of range (an all-zero timestamp included).</summary>
    public static DateTimeOffset? Read(ReadOnlySpan<byte> b)
    {
        ushort typeAndZone = BinaryPrimitives.ReadUInt16LittleEndian(b);
        int type = typeAndZone >> 12;
        int zone = typeAndZone & 0xFFF;
        if ((zone & 0x800) != 0) zone -= 0x1000;
        if (type != 1 || zone == NoTimeZone || zone < -MaxZoneMinutes || zone > MaxZoneMinutes) zone = 0;
        int year = BinaryPrimitives.ReadInt16LittleEndian(b[2..]);
        int month = b[4], day = b[5], hour = b[6], minute = b[7], second = b[8];
        int centi = b[9], hundredsMicro = b[10], micro = b[11];
        if (year < 2 || year > 9998 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59 || centi > 99 || hundredsMicro > 99 || micro > 99)
            return null;
        var dt = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified)
            .AddTicks(centi * 100_000L + hundredsMicro * 1_000L + micro * 10L);
        return new DateTimeOffset(dt, TimeSpan.FromMinutes(zone));
    }
}
