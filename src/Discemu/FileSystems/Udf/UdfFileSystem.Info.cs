namespace Discemu.FileSystems.Udf;

internal sealed partial class UdfFileSystem
{
    private List<KeyValuePair<string, object?>> BuildInfo(UdfVolumeDescriptors vds, string logicalVolume, string fileSet, int sectorSize, uint anchorSector, UdfIntegrity? integrity)
    {
        var lv = vds.Logical;
        var info = new List<KeyValuePair<string, object?>>
        {
            new("udf-revision", UdfIntegrity.Revision(lv.Revision)),
            new("domain", lv.Domain),
            new("volume-id", vds.Primary.VolumeId),
            new("volume-set-id", vds.Primary.VolumeSetId),
            new("logical-volume-id", logicalVolume),
            new("file-set-id", fileSet),
            new("recorded", vds.Primary.Recorded?.ToString("o")),
            new("application-id", vds.Primary.ApplicationId),
            new("implementation-id", vds.Primary.ImplementationId),
            new("sector-size", sectorSize),
            new("logical-block-size", _blockSize),
            new("anchor-sector", anchorSector),
            new("descriptor-sequence", vds.Sequence),
            new("partitions", _partitions.Select((p, i) => (object?)Describe(p!, i, vds)).ToList()),
        };
        if (integrity is not null)
        {
            info.Add(new("integrity", integrity.Closed ? "closed" : "open"));
            info.Add(new("min-read-revision", UdfIntegrity.Revision(integrity.MinRead)));
            info.Add(new("min-write-revision", UdfIntegrity.Revision(integrity.MinWrite)));
            info.Add(new("max-write-revision", UdfIntegrity.Revision(integrity.MaxWrite)));
            info.Add(new("files", integrity.Files));
            info.Add(new("directories", integrity.Directories));
        }
        return info;
    }

    private static Dictionary<string, object?> Describe(UdfPartition p, int reference, UdfVolumeDescriptors vds)
    {
        var d = new Dictionary<string, object?>
        {
            ["reference"] = reference,
            ["number"] = p.Number,
            ["type"] = p.Kind,
            ["blocks"] = p.Blocks,
        };
        var pd = vds.Partitions.FirstOrDefault(x => x.Number == p.Number);
        if (pd is not null)
        {
            d["start-sector"] = pd.Start;
            d["sectors"] = pd.Length;
            d["access"] = pd.AccessName;
            d["contents"] = pd.Contents;
        }
        switch (p)
        {
            case UdfSparablePartition s:
                d["packet-length"] = s.PacketLength;
                d["spared-packets"] = s.SparedPackets;
                break;
            case UdfVirtualPartition v:
                d["vat-block"] = v.VatBlock;
                break;
            case UdfMetadataPartition m:
                d["metadata-file-block"] = m.FileBlock;
                d["mirror-file-block"] = m.MirrorBlock;
                d["uses-mirror"] = m.UsesMirror;
                break;
        }
        return d;
    }
}
