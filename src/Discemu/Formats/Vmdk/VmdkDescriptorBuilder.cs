using System.Globalization;
using System.Text;

namespace Discemu.Formats.Vmdk;

/// <summary>What a new image's disk database says (the <c>-o</c> options that end up in the descriptor).</summary>
/// <param name="AdapterType">ide, lsilogic, buslogic or legacyESX.</param>
/// <param name="HwVersion">ddb.virtualHWVersion.</param>
/// <param name="ToolsVersion">ddb.toolsVersion.</param>
/// <param name="ToolsInstallType">ddb.toolsInstallType, or null to leave it out.</param>
internal sealed record VmdkDiskDatabase(string AdapterType, string HwVersion, string ToolsVersion, string? ToolsInstallType);

/// <summary>
/// Writes the descriptor of a new image in the layout VMware products and qemu-img use: the header
/// keys, the extent description and the disk database (geometry as qemu-img computes it: 16 heads for
/// IDE, 255 for SCSI adapters, 63 sectors, cylinders = size / (heads × 63 × 512)).
/// </summary>
internal static class VmdkDescriptorBuilder
{
    /// <summary>Builds the descriptor text.</summary>
    public static string Build(string createType, uint cid, uint parentCid, string? parentHint,
        IEnumerable<VmdkExtentLine> extents, long sizeBytes, VmdkDiskDatabase ddb)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("# Disk DescriptorFile\n");
        sb.Append("version=1\n");
        sb.Append(inv, $"CID={cid:x8}\n");
        sb.Append(inv, $"parentCID={parentCid:x8}\n");
        sb.Append(inv, $"createType=\"{createType}\"\n");
        if (parentHint is not null) sb.Append(inv, $"parentFileNameHint=\"{parentHint}\"\n");
        sb.Append("\n# Extent description\n");
        foreach (var e in extents) sb.Append(e.Format()).Append('\n');
        sb.Append("\n# The Disk Data Base\n#DDB\n\n");
        int heads = ddb.AdapterType == "ide" ? 16 : 255;
        long cylinders = sizeBytes / (heads * 63L * 512);
        sb.Append(inv, $"ddb.virtualHWVersion = \"{ddb.HwVersion}\"\n");
        sb.Append(inv, $"ddb.geometry.cylinders = \"{cylinders}\"\n");
        sb.Append(inv, $"ddb.geometry.heads = \"{heads}\"\n");
        sb.Append("ddb.geometry.sectors = \"63\"\n");
        sb.Append(inv, $"ddb.adapterType = \"{ddb.AdapterType}\"\n");
        sb.Append(inv, $"ddb.toolsVersion = \"{ddb.ToolsVersion}\"\n");
        if (ddb.ToolsInstallType is not null) sb.Append(inv, $"ddb.toolsInstallType = \"{ddb.ToolsInstallType}\"\n");
        sb.Append(inv, $"ddb.longContentID = \"{VmdkDescriptor.NewLongContentId(cid)}\"\n");
        sb.Append(inv, $"ddb.uuid = \"{NewUuid()}\"\n");
        return sb.ToString();
    }

    /// <summary>A random disk UUID in the descriptor's notation: 16 hex bytes, spaces between them, a dash in the middle.</summary>
    private static string NewUuid()
    {
        Span<byte> b = stackalloc byte[16];
        Random.Shared.NextBytes(b);
        var sb = new StringBuilder(47);
        for (int i = 0; i < 16; i++)
        {
            if (i > 0) sb.Append(i == 8 ? '-' : ' ');
            sb.Append(b[i].ToString("x2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
