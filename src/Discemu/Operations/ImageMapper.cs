using Discemu.Block;

namespace Discemu.Operations;

/// <summary>One run of <c>map</c> output: <see cref="Length"/> bytes at <see cref="Start"/> that share their status.</summary>
/// <param name="Start">Virtual offset.</param>
/// <param name="Length">Bytes in the run.</param>
/// <param name="Depth">Layer of the backing chain that defines the run (0 = the image itself).</param>
/// <param name="Present">Some layer defines the run.</param>
/// <param name="Zero">The run reads as zeros.</param>
/// <param name="Data">The run is read from stored data.</param>
/// <param name="Compressed">The data is stored compressed.</param>
/// <param name="Offset">Where the run lives in the defining layer's file, or null.</param>
public sealed record MapEntry(long Start, long Length, int Depth, bool Present, bool Zero, bool Data, bool Compressed, long? Offset)
{
    /// <summary>Builds an entry from a device status.</summary>
    public static MapEntry FromStatus(long start, BlockStatus status)
    {
        var f = status.Flags;
        return new MapEntry(start, status.Length, status.Depth,
            Present: (f & BlockStatusFlags.Allocated) != 0,
            Zero: status.IsZero,
            Data: (f & BlockStatusFlags.Data) != 0,
            Compressed: (f & BlockStatusFlags.Compressed) != 0,
            Offset: status.HostOffset >= 0 ? status.HostOffset : null);
    }

    /// <summary>True when <paramref name="next"/> continues this entry with the same status (and, when mapped, the next host bytes).</summary>
    public bool CanMerge(MapEntry next)
        => Start + Length == next.Start && Depth == next.Depth && Present == next.Present && Zero == next.Zero
           && Data == next.Data && Compressed == next.Compressed
           && (Offset is null ? next.Offset is null : next.Offset == Offset + Length);
}

/// <summary>Lists how a device's bytes are stored, like <c>qemu-img map</c>.</summary>
public static class ImageMapper
{
    /// <summary>Yields merged runs covering [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) (clipped to the device).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is negative.</exception>
    public static IEnumerable<MapEntry> Map(BlockDevice device, long start = 0, long? length = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        if (length is < 0) throw new ArgumentOutOfRangeException(nameof(length));
        return MapCore(device, start, length);
    }

    private static IEnumerable<MapEntry> MapCore(BlockDevice device, long start, long? length)
    {
        long end = length is { } l ? (long)Math.Min((decimal)start + l, device.Length) : device.Length;
        MapEntry? pending = null;
        for (long pos = start; pos < end;)
        {
            var entry = MapEntry.FromStatus(pos, device.GetStatus(pos, end - pos));
            pos += entry.Length;
            if (pending is not null && pending.CanMerge(entry))
            {
                pending = pending with { Length = pending.Length + entry.Length };
                continue;
            }
            if (pending is not null) yield return pending;
            pending = entry;
        }
        if (pending is not null) yield return pending;
    }
}
