using System.Buffers.Binary;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

/// <summary>One of the two 4 KiB VHDX headers (MS-VHDX 2.2.2), little-endian, CRC-32C protected.</summary>
internal readonly record struct VhdxHeader
{
    public ulong SequenceNumber { get; init; }
    public Guid FileWriteGuid { get; init; }
    public Guid DataWriteGuid { get; init; }
    public Guid LogGuid { get; init; }
    public ushort LogVersion { get; init; }
    public ushort Version { get; init; }
    public uint LogLength { get; init; }
    public long LogOffset { get; init; }

    /// <summary>True when the log holds entries that must be replayed.</summary>
    public bool HasLog => LogGuid != Guid.Empty;

    /// <summary>
    /// Parses a header: false (with a reason) when the signature or checksum is wrong, so the caller can
    /// fall back to the other copy. Field ranges are checked by <see cref="Validate"/> for the current header.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out VhdxHeader header, out string reason)
    {
        header = default;
        if (data.Length < HeaderSize) { reason = "it is truncated"; return false; }
        data = data[..HeaderSize];
        if (BinaryPrimitives.ReadUInt32LittleEndian(data) != HeaderSignature) { reason = "its signature is not 'head'"; return false; }
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        if (VhdxCrc32C.ComputeWithZeroField(data, 4) != stored) { reason = "its checksum is wrong"; return false; }
        header = new VhdxHeader
        {
            SequenceNumber = BinaryPrimitives.ReadUInt64LittleEndian(data[8..]),
            FileWriteGuid = new Guid(data.Slice(16, 16)),
            DataWriteGuid = new Guid(data.Slice(32, 16)),
            LogGuid = new Guid(data.Slice(48, 16)),
            LogVersion = BinaryPrimitives.ReadUInt16LittleEndian(data[64..]),
            Version = BinaryPrimitives.ReadUInt16LittleEndian(data[66..]),
            LogLength = BinaryPrimitives.ReadUInt32LittleEndian(data[68..]),
            LogOffset = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(data[72..]), long.MaxValue),
        };
        reason = "";
        return true;
    }

    /// <summary>Checks the fields of the current header.</summary>
    /// <exception cref="UnsupportedFeatureException">The version or log version is one Discemu does not know.</exception>
    /// <exception cref="CorruptImageException">The log location is invalid.</exception>
    public void Validate(long fileLength, string? path)
    {
        if (Version != 1) throw new UnsupportedFeatureException($"VHDX version {Version} is not supported (only version 1 exists).", path);
        if (LogVersion != 0 && HasLog) throw new UnsupportedFeatureException($"VHDX log version {LogVersion} is not supported.", path);
        if (LogLength % MiB != 0 || LogOffset % MiB != 0)
            throw new CorruptImageException($"The log (offset 0x{LogOffset:x}, {LogLength} bytes) is not aligned to 1 MiB.", path);
        if (LogLength != 0 && LogOffset < HeaderSectionSize)
            throw new CorruptImageException($"The log offset 0x{LogOffset:x} lies inside the header section.", path);
        if (LogOffset > MaxVirtualSize * 2) throw new CorruptImageException($"The log offset 0x{LogOffset:x} is out of range.", path);
        if (HasLog && LogOffset + LogLength > fileLength)
            throw new CorruptImageException("The log lies beyond the end of the file.", path);
    }

    /// <summary>Serialises the header (with its checksum) into the first 4 KiB of <paramref name="dest"/>.</summary>
    public void Write(Span<byte> dest)
    {
        var h = dest[..HeaderSize];
        h.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(h, HeaderSignature);
        BinaryPrimitives.WriteUInt64LittleEndian(h[8..], SequenceNumber);
        FileWriteGuid.TryWriteBytes(h.Slice(16, 16));
        DataWriteGuid.TryWriteBytes(h.Slice(32, 16));
        LogGuid.TryWriteBytes(h.Slice(48, 16));
        BinaryPrimitives.WriteUInt16LittleEndian(h[64..], LogVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(h[66..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(h[68..], LogLength);
        BinaryPrimitives.WriteUInt64LittleEndian(h[72..], (ulong)LogOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(h[4..], VhdxCrc32C.ComputeWithZeroField(h, 4));
    }
}
