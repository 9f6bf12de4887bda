using Discemu.Block;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660;

/// <summary>ISO 9660 (ECMA-119) with Joliet, Rock Ridge, ISO 9660:1999, El Torito and zisofs: read-only.</summary>
public sealed class IsoFileSystemType : FileSystemType
{
    /// <summary>The single instance.</summary>
    public static IsoFileSystemType Instance { get; } = new();

    private IsoFileSystemType() { }

    /// <inheritdoc/>
    public override string Name => "iso9660";

    /// <inheritdoc/>
    public override string Description => "ISO 9660 CD/DVD file system (Joliet, Rock Ridge, El Torito, zisofs)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Aliases => ["iso", "cd9660"];

    /// <summary>
    /// 100 when a volume descriptor ("CD001") is at block 16; 80 when the volume recognition sequence also
    /// names UDF (NSR02/NSR03), so a UDF driver can claim a UDF bridge disc; 0 otherwise.
    /// </summary>
    public override int Probe(BlockDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var sector = new byte[SectorSize];
        long offset = (long)VolumeDescriptorStart * SectorSize;
        if (device.Length < offset + SectorSize) return 0;
        try
        {
            device.Read(offset, sector);
            if (!IsoVolumeDescriptor.HasHeader(sector)) return 0;
            for (int i = 1; i < 8 && offset + (i + 1) * (long)SectorSize <= device.Length; i++)
            {
                device.Read(offset + i * (long)SectorSize, sector);
                var id = sector.AsSpan(1, 5);
                if (id.SequenceEqual("NSR02"u8) || id.SequenceEqual("NSR03"u8)) return 80;
            }
            return 100;
        }
        catch (Exception e) when (e is DiscemuException or IOException)
        {
            return 0;
        }
    }

    /// <inheritdoc/>
    public override FileSystem Open(BlockDevice device, FileSystemOpenOptions options)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        return IsoFileSystem.Open(device, options);
    }
}
