using System.CommandLine;
using System.Globalization;
using Discemu.FileSystems.Fat;
using Discemu.Formats;
using Discemu.Util;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>mkfs fat IMAGE [--size N | --floppy F] [--fat 12|16|32] [--label L] [--cluster N] [--partition mbr|gpt]
/// [-O FORMAT] [-o OPTIONS] [--invariant] [--volume-id HEX] [-q]</c>: makes an empty FAT file system. With a
/// size (or a floppy format) a new image is created in FORMAT (default raw); without, the existing image is
/// formatted over. SOURCE_DATE_EPOCH, when set, fixes the time stamps and serial like --invariant does.
/// </summary>
internal static class MkfsCommand
{
    public static Command Build(CliContext ctx)
    {
        var cmd = new Command("mkfs", "Make a file system on an image");
        cmd.Subcommands.Add(BuildFat(ctx));
        return cmd;
    }

    private static Command BuildFat(CliContext ctx)
    {
        var size = new Option<string?>("--size") { Description = "Create the image with this size (k, M, G, T suffixes)", HelpName = "size" };
        var floppy = new Option<string?>("--floppy") { Description = "A standard floppy: " + string.Join(", ", FatFloppyGeometry.All.Select(g => g.Name)) + " (1.68M is DMF)", HelpName = "format" };
        var fat = new Option<int?>("--fat") { Description = "FAT type (default: by size)", HelpName = "12|16|32" };
        fat.AcceptOnlyFromAmong("12", "16", "32");
        var label = new Option<string?>("--label", "-n") { Description = "Volume label (up to 11 characters)", HelpName = "label" };
        var cluster = new Option<string?>("--cluster", "-c") { Description = "Cluster size in bytes (512 to 64K, a power of two)", HelpName = "bytes" };
        var partition = new Option<string?>("--partition") { Description = "Write a partition table with one FAT partition", HelpName = "mbr|gpt" };
        partition.AcceptOnlyFromAmong("mbr", "gpt", "dos");
        var outFormat = CommonOptions.Format("-O", "Format of the image to create (default raw)");
        var options = CommonOptions.CreateOptions();
        var inputFormat = CommonOptions.Format("-f", "Format of an existing image (probed when omitted)");
        var invariant = new Option<bool>("--invariant") { Description = "Reproducible output: fixed serial, time stamps and identifiers" };
        var volumeId = new Option<string?>("--volume-id", "-i") { Description = "Volume serial number (8 hex digits)", HelpName = "hex" };
        var quiet = CommonOptions.Quiet();
        var file = CommonOptions.File("image");
        var cmd = new Command("fat", "Make an empty FAT12/16/32 file system (a floppy, or a disk with or without a partition table)")
            { size, floppy, fat, label, cluster, partition, outFormat, options, inputFormat, invariant, volumeId, quiet, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            var geometry = parse.GetValue(floppy) is { } f ? FatFloppyGeometry.Find(f) : null;
            long? length = parse.GetValue(size) is { } s ? SizeParser.Parse(s) : null;
            if (geometry is not null && length is not null && length != geometry.Length)
                throw new BadArgumentException($"--size {length} does not match the {geometry.Name} floppy ({geometry.Length} bytes).");
            length ??= geometry?.Length;
            var fatOptions = new FatFormatOptions
            {
                Type = parse.GetValue(fat) is { } t ? (FatType)t : null,
                Floppy = geometry,
                Label = parse.GetValue(label),
                ClusterSize = parse.GetValue(cluster) is { } c ? checked((int)SizeParser.Parse(c, "cluster size")) : null,
                Invariant = parse.GetValue(invariant),
                VolumeId = parse.GetValue(volumeId) is { } v ? ParseSerial(v) : null,
                Timestamp = SourceDateEpoch(),
            };
            string? scheme = parse.GetValue(partition);
            if (scheme is not null && geometry is not null) throw new BadArgumentException("--partition and --floppy cannot be combined: floppies have no partition table.");
            DiskImage image;
            if (length is { } newSize)
            {
                var fmt = ctx.Registry.Find(parse.GetValue(outFormat) ?? "raw");
                if (!fmt.CanCreate) throw new BadArgumentException($"Format '{fmt.Name}' cannot be created.");
                image = fmt.Create(new ImageCreateRequest(path, newSize, CreateOptions.Parse(parse.GetValue(options) ?? []), ctx.Opener));
            }
            else
            {
                if (!File.Exists(path) && !path.StartsWith("/dev/", StringComparison.Ordinal))
                    throw new BadArgumentException("A size is needed (--size or --floppy) unless the image exists.", path);
                image = ctx.Open(path, ctx.FormatOption(parse, inputFormat), writable: true, openBacking: true);
            }
            using (image)
            {
                FatBootSector boot;
                string where;
                if (scheme is not null)
                {
                    var (p, b) = FatFormatter.FormatDisk(image, scheme == "gpt" ? FatPartitionScheme.Gpt : FatPartitionScheme.Mbr, fatOptions);
                    boot = b;
                    where = string.Create(CultureInfo.InvariantCulture, $"partition {p.Number} ({p.Type.Name}, {SizeParser.Format(p.Length)} at {p.Start}) of {path}");
                }
                else
                {
                    boot = FatFormatter.Format(image, fatOptions);
                    where = path;
                }
                image.Flush();
                if (!parse.GetValue(quiet))
                {
                    string type = boot.Type switch { FatType.Fat12 => "FAT12", FatType.Fat16 => "FAT16", _ => "FAT32" };
                    ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"Created a {type} file system on {where}: {boot.ClusterCount} clusters of {boot.ClusterSize} bytes, serial {boot.VolumeId >> 16:X4}-{boot.VolumeId & 0xFFFF:X4}{(boot.LabelText is { } l ? $", label {l}" : "")}."));
                }
            }
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    private static uint ParseSerial(string text)
    {
        string t = text.Replace("-", "", StringComparison.Ordinal);
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) t = t[2..];
        if (t.Length is 0 or > 8 || !uint.TryParse(t, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint id))
            throw new BadArgumentException($"Invalid volume id '{text}': expected up to 8 hex digits.");
        return id;
    }

    /// <summary>SOURCE_DATE_EPOCH (reproducible builds): seconds since 1970 UTC, or null when unset.</summary>
    private static DateTimeOffset? SourceDateEpoch()
    {
        string? text = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long seconds) || seconds < 0 || seconds > 253402300799)
            throw new BadArgumentException($"SOURCE_DATE_EPOCH '{text}' is not a number of seconds.");
        return DateTimeOffset.FromUnixTimeSeconds(seconds);
    }
}
