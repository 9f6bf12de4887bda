using Discemu.Block;
using static Discemu.FileSystems.Udf.UdfConstants;

namespace Discemu.FileSystems.Udf;

/// <summary>UDF 1.02 to 2.60 (ECMA-167 / OSTA UDF) as on DVDs, Blu-ray discs and packet-written media: read-only.</summary>
public sealed class UdfFileSystemType : FileSystemType
{
    /// <summary>The single instance.</summary>
    public static UdfFileSystemType Instance { get; } = new();

    private UdfFileSystemType() { }

    /// <inheritdoc/>
    public override string Name => "udf";

    /// <inheritdoc/>
    public override string Description => "UDF 1.02-2.60 DVD/Blu-ray file system (ECMA-167)";

    /// <summary>
    /// 90 when the volume recognition sequence at 32 KiB has BEA01, NSR02 or NSR03 (before TEA01) and an anchor
    /// volume descriptor pointer is found; 0 otherwise. 90 beats ISO 9660's 80 on a UDF bridge disc, whose real
    /// content (DVD-Video, Blu-ray) is in UDF; ISO 9660 scores 100 on a disc without NSR.
    /// </summary>
    public override int Probe(BlockDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        try
        {
            return HasNsr(device) && UdfVolumeReader.FindAnchor(device) is not null ? 90 : 0;
        }
        catch (Exception e) when (e is DiscemuException or IOException)
        {
            return 0;
        }
    }

    /// <summary>True when an extended area (BEA01 ... TEA01) holding NSR02 or NSR03 starts at 32 KiB (ECMA-167 2/8.3, 3/9.1).</summary>
    private static bool HasNsr(BlockDevice device)
    {
        var header = new byte[8];
        foreach (int stride in new[] { RecognitionDescriptorSize, 4096 })
        {
            bool inExtended = false;
            for (int i = 0; i < MaxRecognitionDescriptors; i++)
            {
                long offset = RecognitionStart + (long)i * stride;
                if (offset + RecognitionDescriptorSize > device.Length) break;
                device.Read(offset, header);
                var id = header.AsSpan(1, 5);
                if (header[0] != 0 || header[6] != 1)
                {
                    if (id.SequenceEqual("CD001"u8) || id.SequenceEqual("CDW02"u8)) continue; // ISO 9660 descriptors of a bridge disc
                    break;
                }
                if (id.SequenceEqual("BEA01"u8)) inExtended = true;
                else if (id.SequenceEqual("TEA01"u8)) inExtended = false;
                else if (inExtended && (id.SequenceEqual("NSR02"u8) || id.SequenceEqual("NSR03"u8))) return true;
                else if (!id.SequenceEqual("CD001"u8) && !id.SequenceEqual("BOOT2"u8) && !id.SequenceEqual("CDW02"u8)) break;
            }
        }
        return false;
    }

    /// <inheritdoc/>
    public override FileSystem Open(BlockDevice device, FileSystemOpenOptions options)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        return UdfFileSystem.Open(device, options);
    }
}
