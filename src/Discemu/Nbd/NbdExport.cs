using Discemu.Block;

namespace Discemu.Nbd;

/// <summary>One device served by an <see cref="NbdServer"/> under a name.</summary>
/// <remarks>
/// Every connection to the export shares the one device, and writes, zeroing, trims and flushes are
/// serialized against each other and against reads, so a flush on any connection covers the writes
/// completed on all of them (which is what lets the server advertise multi-conn).
/// </remarks>
public sealed class NbdExport
{
    /// <summary>Creates an export.</summary>
    /// <param name="name">The export name clients ask for (may be empty).</param>
    /// <param name="device">The device; it stays owned by the caller.</param>
    /// <param name="readOnly">Refuse writes even when the device allows them.</param>
    /// <param name="description">Optional text sent to clients that ask for it.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="device"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is longer than 4096 bytes or contains a NUL.</exception>
    public NbdExport(string name, BlockDevice device, bool readOnly, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(device);
        if (name.Contains('\0') || System.Text.Encoding.UTF8.GetByteCount(name) > NbdConstants.MaxStringLength)
            throw new ArgumentException("An export name must be at most 4096 bytes without NUL characters.", nameof(name));
        Name = name;
        Device = device;
        ReadOnly = readOnly || !device.CanWrite;
        Description = description ?? "";
    }

    /// <summary>The export name.</summary>
    public string Name { get; }

    /// <summary>The served device.</summary>
    public BlockDevice Device { get; }

    /// <summary>True when clients may not write.</summary>
    public bool ReadOnly { get; }

    /// <summary>Free text describing the export.</summary>
    public string Description { get; }

    /// <summary>Readers share, writers exclude (see the remarks).</summary>
    internal ReaderWriterLockSlim Lock { get; } = new(LockRecursionPolicy.NoRecursion);

    /// <summary>The transmission flags for a connection (DF only once structured replies are on).</summary>
    internal ushort TransmissionFlags(bool structured)
    {
        ushort flags = NbdConstants.TxHasFlags | NbdConstants.TxSendFlush | NbdConstants.TxSendFua | NbdConstants.TxCanMultiConn | NbdConstants.TxSendCache;
        if (ReadOnly) flags |= NbdConstants.TxReadOnly;
        else flags |= NbdConstants.TxSendTrim | NbdConstants.TxSendWriteZeroes | NbdConstants.TxSendFastZero;
        if (structured) flags |= NbdConstants.TxSendDf;
        return flags;
    }

    /// <summary>Flushes the device when it is writable.</summary>
    internal void Flush()
    {
        if (ReadOnly) return;
        Lock.EnterWriteLock();
        try { Device.Flush(); }
        finally { Lock.ExitWriteLock(); }
    }
}
