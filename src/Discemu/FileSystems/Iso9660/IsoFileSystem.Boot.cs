namespace Discemu.FileSystems.Iso9660;

internal sealed partial class IsoFileSystem
{
    /// <summary>The virtual folder of the El Torito boot images, in the root.</summary>
    public const string BootDirectoryName = "[BOOT]";

    /// <summary>The El Torito boot entries of the opened session (empty when there is no valid catalog).</summary>
    internal IReadOnlyList<BootEntry> BootEntries => _boot ?? [];

    /// <summary>
    /// The boot images as files named as 7-Zip names them: <c>Boot-{media}.img</c> for a single image,
    /// <c>{n}-Boot-{media}.img</c> when there are several (media: NoEmul, 1.2M, 1.44M, 2.88M, HardDisk).
    /// </summary>
    private List<FileSystemEntry> BootImages()
    {
        var list = new List<FileSystemEntry>();
        if (_boot is null) return list;
        foreach (var e in _boot)
        {
            long offset = (long)e.LoadRba * IsoConstants.SectorSize;
            long size = ElTorito.ImageSize(e, _device, _volumeEnd);
            list.Add(new IsoEntry
            {
                Owner = this,
                Name = BootImageName(e, _boot.Count),
                Kind = FileSystemEntryKind.File,
                Size = size,
                Extents = [(offset, size)],
                Virtual = IsoVirtual.BootImage,
                Identity = ('e', (long)e.Index),
                Modified = _primary.Created,
            });
        }
        return list;
    }

    /// <summary>The file name of a boot image under <see cref="BootDirectoryName"/>.</summary>
    internal static string BootImageName(BootEntry e, int count)
        => (count > 1 ? $"{e.Index}-" : "") + $"Boot-{e.MediaName}.img";

    private List<KeyValuePair<string, object?>> BuildInfo(IsoSetup s)
    {
        var info = new List<KeyValuePair<string, object?>>
        {
            new("volume-id", _tree.VolumeId),
            new("system-id", _primary.SystemId),
            new("volume-set-id", _primary.VolumeSetId),
            new("publisher-id", _primary.PublisherId),
            new("preparer-id", _primary.PreparerId),
            new("application-id", _primary.ApplicationId),
            new("created", _primary.Created?.ToString("o")),
            new("modified", _primary.Modified?.ToString("o")),
            new("logical-block-size", _primary.LogicalBlockSize),
            new("volume-space-size", _primary.VolumeSpaceSize),
            new("names", Names switch { IsoNames.RockRidge => "rr", IsoNames.Joliet => "joliet", _ => "iso" }),
            new("rock-ridge", s.RockRidgeAvailable),
            new("joliet-level", s.Descriptors.Where(d => d.Kind == IsoTreeKind.Joliet).Select(d => d.JolietLevel).DefaultIfEmpty(0).Max()),
            new("iso9660-1999", s.Descriptors.Any(d => d.Kind == IsoTreeKind.Enhanced)),
            new("session", s.Session.Index),
            new("sessions", s.Sessions.Select(x => (object?)new Dictionary<string, object?>
            {
                ["index"] = x.Index,
                ["start-block"] = x.StartBlock,
                ["blocks"] = x.Blocks,
            }).ToList()),
        };
        if (s.BootCatalog is { } cat)
        {
            var boot = new Dictionary<string, object?> { ["catalog-block"] = cat };
            if (s.BootError is { } err) boot["error"] = err;
            else boot["images"] = BootEntries.Select(e => (object?)new Dictionary<string, object?>
            {
                ["index"] = e.Index,
                ["platform"] = e.PlatformName,
                ["bootable"] = e.Bootable,
                ["media"] = e.MediaName,
                ["load-segment"] = e.LoadSegment,
                ["system-type"] = e.SystemType,
                ["sector-count"] = e.SectorCount,
                ["load-block"] = e.LoadRba,
                ["file"] = $"{BootDirectoryName}/{BootImageName(e, BootEntries.Count)}",
            }).ToList();
            info.Add(new("el-torito", boot));
        }
        var hybrid = IsoHybrid.Describe(_device);
        if (hybrid.Count > 0) info.Add(new("isohybrid", hybrid.ToDictionary(k => k.Key, k => k.Value)));
        return info;
    }
}
