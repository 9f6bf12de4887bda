using Microsoft.Win32.SafeHandles;

namespace Discemu.Block;

/// <summary>A contiguous range of a host file: <see cref="Length"/> bytes at <see cref="Offset"/> of <see cref="Handle"/>.</summary>
/// <param name="Handle">The open host file (owned by the device that answered; valid while that device is open).</param>
/// <param name="Offset">Where the range starts in the host file.</param>
/// <param name="Length">The range's length in bytes (at least 1).</param>
internal readonly record struct HostExtent(SafeFileHandle Handle, long Offset, long Length);

/// <summary>
/// Optional ability of a device whose bytes lie, unchanged, in a host file: it tells where, so a caller can have
/// the kernel move them (splice, copy_file_range) instead of reading them into memory. Devices that transform
/// their bytes (compression, encryption, image formats with their own allocation) do not implement it, and
/// neither do ranges that read as computed zeros: <see cref="MapToHostCore"/> returns null for those.
/// </summary>
/// <remarks>
/// The answer stays valid as long as the device is open and the range is not written through another path
/// than the device (a write through the device lands in the same host bytes).
/// </remarks>
internal interface IHostMappable
{
    /// <summary>
    /// Where the bytes at <paramref name="offset"/> live: a host file range starting there of at most
    /// <paramref name="maxLength"/> bytes (the longest contiguous prefix, possibly shorter), or null when the bytes
    /// at <paramref name="offset"/> are not stored verbatim in a host file. Callers use <see cref="HostMapping.Map"/>,
    /// which checks the range first.
    /// </summary>
    HostExtent? MapToHostCore(long offset, long maxLength);
}

/// <summary>Queries <see cref="IHostMappable"/> through a device stack.</summary>
internal static class HostMapping
{
    /// <summary>
    /// Where <paramref name="device"/>'s bytes at <paramref name="offset"/> (up to <paramref name="maxLength"/> of them)
    /// lie in a host file, or null when the device cannot tell (it does not implement <see cref="IHostMappable"/>,
    /// the range is empty or outside the device, or those bytes are not stored verbatim).
    /// </summary>
    public static HostExtent? Map(BlockDevice device, long offset, long maxLength)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device is not IHostMappable m || offset < 0 || maxLength <= 0 || offset >= device.Length) return null;
        var e = m.MapToHostCore(offset, Math.Min(maxLength, device.Length - offset));
        return e is { Length: > 0 } x && x.Length <= maxLength && x.Offset >= 0 && !x.Handle.IsInvalid && !x.Handle.IsClosed ? x : null;
    }

    /// <summary>
    /// Fills <paramref name="extents"/> (cleared first) with the host ranges holding <paramref name="length"/> bytes of
    /// <paramref name="device"/> at <paramref name="offset"/>, in order; false (and a partial list) when some of them
    /// are not in a host file or more than <paramref name="maxExtents"/> ranges would be needed.
    /// </summary>
    public static bool TryMapAll(BlockDevice device, long offset, long length, List<HostExtent> extents, int maxExtents)
    {
        ArgumentNullException.ThrowIfNull(extents);
        extents.Clear();
        while (length > 0)
        {
            if (extents.Count >= maxExtents || Map(device, offset, length) is not { } e) return false;
            // Adjacent pieces of the same file join into one range.
            int n = extents.Count;
            if (n > 0 && extents[n - 1].Handle == e.Handle && extents[n - 1].Offset + extents[n - 1].Length == e.Offset)
                extents[n - 1] = extents[n - 1] with { Length = extents[n - 1].Length + e.Length };
            else
                extents.Add(e);
            offset += e.Length;
            length -= e.Length;
        }
        return true;
    }
}
