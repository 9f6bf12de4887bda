using Discemu.Block;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>
/// Authors ISO 9660 images (Rock Ridge, Joliet, El Torito) from host files: <see cref="Plan"/> scans the sources
/// into a compact tree and lays out every structure with exact sizes; <see cref="IsoAuthorPlan.WriteTo"/> then
/// writes the image in one sequential pass, streaming file contents through a bounded buffer.
/// </summary>
public static class IsoAuthor
{
    /// <summary>Scans the sources and plans the image.</summary>
    /// <exception cref="BadArgumentException">No or missing sources, a name clash between sources, a bad level, id or boot image.</exception>
    /// <exception cref="UnsupportedFeatureException">The tree exceeds an ISO 9660 limit (65 535 directories, 8 TiB).</exception>
    /// <exception cref="ImageAccessException">A source cannot be read, or the temporary file holding the tree (in the temporary directory) cannot be created or written.</exception>
    public static IsoAuthorPlan Plan(IsoAuthorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Level is < 1 or > 3) throw new BadArgumentException($"ISO level {options.Level} is not 1, 2 or 3.");
        var now = DateTimeOffset.UtcNow;
        var tree = new IsoTree();
        try
        {
            return PlanInto(options, tree, now);
        }
        catch
        {
            tree.Dispose();
            throw;
        }
    }

    private static IsoAuthorPlan PlanInto(IsoAuthorOptions options, IsoTree tree, DateTimeOffset now)
    {
        new IsoTreeScanner(options, now, tree).Scan();
        var layout = new IsoLayout { Tree = tree, Options = options };
        if (options.BootEntries.Count > 0 && options.BootCatalogPath is { } catPath) layout.BootCatalog = AddCatalog(tree, catPath, options);
        layout.Plan();
        var boots = IsoElToritoWriter.Resolve(options.BootEntries, layout);
        byte[]? hybrid = null;
        if (options.IsoHybridMbr is { } template)
        {
            if (boots.Count == 0 || boots[0].Entry.Efi || boots[0].Media != BootMedia.NoEmulation)
                throw new BadArgumentException("An isohybrid MBR needs a BIOS no-emulation boot image as the first boot entry (-b IMG -no-emul-boot).");
            hybrid = IsoHybridWriter.ReadTemplate(template);
        }
        long efiBytes = 0;
        if (options.EfiPartition is { } efi)
        {
            var info = new FileInfo(efi);
            if (!info.Exists) throw new BadArgumentException($"EFI partition image '{efi}' does not exist.", efi);
            efiBytes = info.Length;
            if (efiBytes is 0 or > (long)uint.MaxValue * IsoPartitionWriter.Lba / 2)
                throw new BadArgumentException($"EFI partition image '{efi}' is {efiBytes} bytes (1 byte to 1 TiB expected).", efi);
        }
        return new IsoAuthorPlan(layout, boots, options.SourceDateEpoch ?? now, hybrid, efiBytes);
    }

    private static IsoNode AddCatalog(IsoTree tree, string path, IsoAuthorOptions options)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new BadArgumentException("The boot catalog path is empty.");
        var dir = tree.Root;
        foreach (string p in parts[..^1])
            dir = tree.FindDirectory(dir, p) ?? throw new BadArgumentException($"The boot catalog's directory '{p}' is not in the ISO tree.", path);
        if (tree.Find(dir, parts[^1]) is not null) throw new BadArgumentException($"Name clash: the boot catalog '{path}' is also a source file.", path);
        long t = dir.ModifiedSeconds;
        var node = new IsoNode
        {
            Name = parts[^1], Kind = IsoNodeKind.BootCatalog, Parent = dir, Mode = 0x81A4,
            Size = (IsoElToritoWriter.CatalogBytes(options.BootEntries) + 2047) / 2048 * 2048,
            ModifiedSeconds = t, AccessedSeconds = t, ChangedSeconds = t,
        };
        dir.Dir!.Parts.Add(node);
        return node;
    }
}

/// <summary>
/// A planned ISO image: its exact size, ready to be written. It holds a temporary file with the tree's entries
/// (deleted on <see cref="Dispose"/>).
/// </summary>
public sealed class IsoAuthorPlan : IDisposable
{
    private readonly IsoLayout _layout;
    private readonly List<ResolvedBootEntry> _boots;
    private readonly DateTimeOffset _volumeTime;
    private readonly byte[]? _hybridTemplate;

    private readonly long _efiBytes;

    internal IsoAuthorPlan(IsoLayout layout, List<ResolvedBootEntry> boots, DateTimeOffset volumeTime, byte[]? hybridTemplate, long efiBytes)
    {
        _efiBytes = efiBytes;
        _hybridTemplate = hybridTemplate;
        _layout = layout;
        _boots = boots;
        _volumeTime = volumeTime;
    }

    /// <summary>The image's size in bytes: the ISO volume, then the appended EFI partition and the backup GPT, if any.</summary>
    public long Size => (long)_layout.VolumeBlocks * IsoConstants.SectorSize + IsoPartitionWriter.TrailerBytes(_efiBytes, _layout.Options.Gpt);

    /// <summary>Directories in the tree (the root included).</summary>
    public int Directories => _layout.IsoDirs.Count;

    /// <summary>Files with content of their own (hard links counted once).</summary>
    public int Files => _layout.FileCount;

    /// <summary>Deletes the temporary file holding the tree's entries; the plan cannot be written after.</summary>
    public void Dispose() => _layout.Tree.Dispose();

    /// <summary>
    /// Writes the image to <paramref name="device"/>, a new device of at least <see cref="Size"/> bytes that reads
    /// zeros where nothing is written, in increasing offset order.
    /// </summary>
    /// <exception cref="ArgumentException">The device is smaller than <see cref="Size"/>.</exception>
    /// <exception cref="ImageAccessException">A source file (or the EFI partition image) cannot be read or changed size while it was written, or the temporary file holding the tree cannot be read.</exception>
    public void WriteTo(BlockDevice device, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Length < Size) throw new ArgumentException($"The device ({device.Length} bytes) is smaller than the image ({Size}).", nameof(device));
        new IsoImageWriter(_layout, _boots, device, _volumeTime, _hybridTemplate, _efiBytes).Write(cancel);
    }
}
