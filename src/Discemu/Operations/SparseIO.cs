using Discemu.Block;

namespace Discemu.Operations;

/// <summary>Helpers shared by the operations: reads that skip holes, and zero detection.</summary>
internal static class SparseIO
{
    /// <summary>Reads <paramref name="buffer"/> at <paramref name="offset"/>, clearing ranges the device reports as zeros instead of reading them.</summary>
    public static void ReadSkippingHoles(BlockDevice device, long offset, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var st = device.GetStatus(offset, buffer.Length);
            int n = (int)st.Length;
            if (st.IsZero) buffer[..n].Clear();
            else device.Read(offset, buffer[..n]);
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <summary>True when every byte is zero.</summary>
    public static bool IsZero(ReadOnlySpan<byte> data) => data.IndexOfAnyExcept((byte)0) < 0;

    /// <summary>True when the whole range reads as zeros according to the device's status (no data is read).</summary>
    public static bool IsKnownZero(BlockDevice device, long offset, long length)
    {
        long end = offset + length;
        while (offset < end)
        {
            var st = device.GetStatus(offset, end - offset);
            if (!st.IsZero) return false;
            offset += st.Length;
        }
        return true;
    }

    /// <summary>Rounds down to a multiple of <paramref name="unit"/>.</summary>
    public static long AlignDown(long value, long unit) => value - value % unit;
}
