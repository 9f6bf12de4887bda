namespace Discemu.Block;

/// <summary>What a range of a device holds, as answered by <see cref="BlockDevice.GetStatus"/>.</summary>
[Flags]
public enum BlockStatusFlags
{
    /// <summary>Unallocated in the whole chain and reads as zeros (a hole).</summary>
    None = 0,
    /// <summary>Reads come from stored data (which may still happen to be zeros).</summary>
    Data = 1,
    /// <summary>The range is known to read as zeros.</summary>
    Zero = 2,
    /// <summary>Some layer of the device's chain defines the range (qemu-img map's "present").</summary>
    Allocated = 4,
    /// <summary>The data is stored compressed.</summary>
    Compressed = 8,
}

/// <summary>
/// The status of the range starting at the queried offset: <see cref="Length"/> bytes share
/// <see cref="Flags"/>. <see cref="Depth"/> is the layer of the backing chain that answered
/// (0 = the device itself); <see cref="HostOffset"/> is where the bytes live in the answering
/// layer's file, or -1 when there is no single place.
/// </summary>
public readonly record struct BlockStatus(long Length, BlockStatusFlags Flags, int Depth = 0, long HostOffset = -1)
{
    /// <summary>True when the range reads as zeros.</summary>
    public bool IsZero => (Flags & BlockStatusFlags.Zero) != 0 || (Flags & (BlockStatusFlags.Data | BlockStatusFlags.Allocated)) == 0;

    /// <summary>True when the range carries data that must be read to be known.</summary>
    public bool HasData => (Flags & BlockStatusFlags.Data) != 0 && (Flags & BlockStatusFlags.Zero) == 0;

    /// <summary>True when the range is allocated (in any layer of the chain).</summary>
    public bool IsAllocated => (Flags & BlockStatusFlags.Allocated) != 0;

    /// <summary>Returns the same status for a range one layer further down the chain.</summary>
    public BlockStatus Deeper() => this with { Depth = Depth + 1 };
}

/// <summary>Optional operations a device supports natively or allows at all.</summary>
[Flags]
public enum DeviceCapabilities
{
    /// <summary>Read-only device with no optional features.</summary>
    None = 0,
    /// <summary><see cref="BlockDevice.Write"/> is allowed.</summary>
    Write = 1,
    /// <summary>The device implements write-zeroes efficiently (without writing a zero buffer).</summary>
    FastZero = 2,
    /// <summary>The device can deallocate ranges on <see cref="BlockDevice.Discard"/>.</summary>
    Discard = 4,
    /// <summary><see cref="BlockDevice.Resize"/> is allowed.</summary>
    Resize = 8,
    /// <summary>The device answers <see cref="BlockDevice.GetStatus"/> with real allocation data.</summary>
    Status = 16,
}
