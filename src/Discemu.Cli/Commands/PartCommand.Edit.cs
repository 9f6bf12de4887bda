using System.CommandLine;
using System.Globalization;
using Discemu.Cli.Output;
using Discemu.Partitions;
using Discemu.Partitions.Gpt;
using Discemu.Util;

namespace Discemu.Cli.Commands;

internal static partial class PartCommand
{
    private static readonly string TypeHelp = string.Join(", ", PartitionTypes.Aliases.Select(a => a.Name)) + ", a type GUID (GPT) or a type byte in hex (MBR)";

    /// <summary><c>part create [-f fmt] [--sector-size N] [--force] IMAGE mbr|gpt</c></summary>
    private static Command BuildCreate(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var sectorSize = SectorSizeOption("Logical sector size in bytes (default 512)");
        var force = new Option<bool>("--force") { Description = "Replace an existing partition table" };
        var diskId = new Option<string?>("--disk-id") { Description = "Disk identifier: a GUID (GPT) or a 32-bit hex signature like 0x1234abcd (MBR); default random", HelpName = "id" };
        var quiet = CommonOptions.Quiet();
        var file = CommonOptions.File("image");
        var kind = new Argument<string>("type") { Description = "Partition table type: mbr (alias dos) or gpt" };
        var cmd = new Command("create", "Write a new, empty partition table") { format, sectorSize, force, diskId, quiet, file, kind };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            var scheme = PartitionTableRegistry.Default.Find(parse.GetValue(kind)!);
            using var image = ctx.Open(path, ctx.FormatOption(parse, format), writable: true);
            if (!parse.GetValue(force) && PartitionTableRegistry.Default.Probe(image) is { } existing)
                throw new BadArgumentException($"The disk already has {Article(existing.Format.Name)} {existing.Format.Name.ToUpperInvariant()} partition table; use --force to replace it.", path);
            var options = new PartitionTableCreateOptions { SectorSize = parse.GetValue(sectorSize) ?? 512, Path = path };
            if (parse.GetValue(diskId) is { } id)
            {
                options = scheme.Name == "gpt"
                    ? options with { DiskGuid = ParseGuid(id) }
                    : options with { DiskSignature = uint.TryParse(id.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? id[2..] : id, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint sig) ? sig : throw new BadArgumentException($"Invalid MBR disk signature '{id}': expected up to 8 hex digits.") };
            }
            var table = scheme.Create(image, options);
            image.Flush();
            if (!parse.GetValue(quiet)) ctx.Out.WriteLine($"Created {Article(table.Format.Name)} {table.Format.Name.ToUpperInvariant()} partition table (disk identifier {table.DiskId}).");
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    private static string Article(string scheme) => scheme == "mbr" ? "an" : "a";

    /// <summary><c>part add IMAGE --type T [--size N | --end N] [--start N] [--name NAME] [--bootable] [--logical] [--number N] [--attrs A] [--uuid G] [--align N]</c></summary>
    private static Command BuildAdd(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var sectorSize = SectorSizeOption();
        var type = new Option<string>("--type", "-t") { Description = "Partition type: " + TypeHelp, HelpName = "type", DefaultValueFactory = _ => "linux" };
        var size = new Option<string?>("--size", "-s") { Description = "Size (k, M, G, T suffixes); default: the rest of the free space", HelpName = "size" };
        var end = new Option<string?>("--end") { Description = "Byte offset just past the partition (instead of --size)", HelpName = "offset" };
        var start = new Option<string?>("--start") { Description = "First byte (default: the first 1 MiB-aligned free place that fits)", HelpName = "offset" };
        var name = new Option<string?>("--name", "-n") { Description = "Partition name (GPT)", HelpName = "name" };
        var bootable = new Option<bool>("--bootable") { Description = "Set the MBR boot flag / the GPT legacy-BIOS-bootable attribute" };
        var logical = new Option<bool>("--logical") { Description = "Make a logical partition inside the MBR extended partition" };
        var number = new Option<int?>("--number") { Description = "Partition number to use (a free GPT entry or MBR primary slot 1-4)", HelpName = "N" };
        var attrs = new Option<string?>("--attrs") { Description = "GPT attributes: RequiredPartition, NoBlockIOProtocol, LegacyBIOSBootable, GUID:N[,M], or 0xMASK", HelpName = "attrs" };
        var uuid = new Option<string?>("--uuid") { Description = "GPT unique partition GUID (default: random)", HelpName = "guid" };
        var align = new Option<string?>("--align") { Description = "Alignment of the default start (default 1M)", HelpName = "size" };
        var quiet = CommonOptions.Quiet();
        var file = CommonOptions.File("image");
        var cmd = new Command("add", "Add a partition") { format, sectorSize, type, size, end, start, name, bootable, logical, number, attrs, uuid, align, quiet, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            using var image = ctx.Open(path, ctx.FormatOption(parse, format), writable: true);
            var table = OpenTable(image, path, parse.GetValue(sectorSize));
            if (parse.GetValue(align) is { } a) table.Alignment = SizeParser.Parse(a, "alignment");
            bool gpt = table.Format.Name == "gpt";
            var spec = new PartitionSpec
            {
                Type = PartitionTypes.Parse(parse.GetValue(type)!, gpt),
                Start = parse.GetValue(start) is { } s ? SizeParser.Parse(s, "start") : null,
                Length = parse.GetValue(size) is { } z ? SizeParser.Parse(z, "size") : null,
                End = parse.GetValue(end) is { } e ? SizeParser.Parse(e, "end") : null,
                Name = parse.GetValue(name),
                Bootable = parse.GetValue(bootable),
                Logical = parse.GetValue(logical),
                Number = parse.GetValue(number),
                Attributes = parse.GetValue(attrs) is { } at ? GptAttributes.Parse(at) : 0,
                UniqueId = ParseGuid(parse.GetValue(uuid)),
            };
            var p = table.Add(spec);
            image.Flush();
            if (!parse.GetValue(quiet))
                ctx.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Added partition {p.Number}: {p.Type.Name}, bytes {p.Start}..{p.End} ({SizeParser.Format(p.Length)})."));
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    /// <summary><c>part rm IMAGE N</c></summary>
    private static Command BuildRemove(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var sectorSize = SectorSizeOption();
        var quiet = CommonOptions.Quiet();
        var file = CommonOptions.File("image");
        var number = new Argument<int>("number") { Description = "Partition number" };
        var cmd = new Command("rm", "Remove a partition (MBR logical partitions after it are renumbered)") { format, sectorSize, quiet, file, number };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            using var image = ctx.Open(path, ctx.FormatOption(parse, format), writable: true);
            var table = OpenTable(image, path, parse.GetValue(sectorSize));
            int n = parse.GetValue(number);
            table.Remove(n);
            image.Flush();
            if (!parse.GetValue(quiet)) ctx.Out.WriteLine($"Removed partition {n}.");
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    /// <summary><c>part set IMAGE N [--type T] [--name NAME] [--bootable [true|false]] [--attrs A] [--uuid G]</c></summary>
    private static Command BuildSet(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var sectorSize = SectorSizeOption();
        var type = new Option<string?>("--type", "-t") { Description = "New partition type: " + TypeHelp, HelpName = "type" };
        var name = new Option<string?>("--name", "-n") { Description = "New partition name (GPT; \"\" clears it)", HelpName = "name" };
        var bootable = new Option<bool>("--bootable") { Description = "Set (or with 'false' clear) the MBR boot flag / GPT legacy-BIOS-bootable attribute" };
        var attrs = new Option<string?>("--attrs") { Description = "Replace the GPT attributes (\"\" clears them)", HelpName = "attrs" };
        var uuid = new Option<string?>("--uuid") { Description = "New GPT unique partition GUID", HelpName = "guid" };
        var quiet = CommonOptions.Quiet();
        var file = CommonOptions.File("image");
        var number = new Argument<int>("number") { Description = "Partition number" };
        var cmd = new Command("set", "Change a partition's type, name, flags or GUID") { format, sectorSize, type, name, bootable, attrs, uuid, quiet, file, number };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            using var image = ctx.Open(path, ctx.FormatOption(parse, format), writable: true);
            var table = OpenTable(image, path, parse.GetValue(sectorSize));
            var update = new PartitionUpdate
            {
                Type = parse.GetValue(type) is { } t ? PartitionTypes.Parse(t, table.Format.Name == "gpt") : null,
                Name = parse.GetValue(name),
                Bootable = parse.GetResult(bootable) is { Implicit: false } ? parse.GetValue(bootable) : null,
                Attributes = parse.GetValue(attrs) is { } at ? GptAttributes.Parse(at) : null,
                UniqueId = ParseGuid(parse.GetValue(uuid)),
            };
            if (update == new PartitionUpdate()) throw new BadArgumentException("Nothing to change: give --type, --name, --bootable, --attrs or --uuid.");
            int n = parse.GetValue(number);
            var p = table.Update(n, update);
            image.Flush();
            if (!parse.GetValue(quiet)) ctx.Out.WriteLine($"Changed partition {p.Number}: {p.Type.Name}{(p.Name is { Length: > 0 } pn ? $", name \"{pn}\"" : "")}{(p.Flags.Count > 0 ? ", " + string.Join(' ', p.Flags) : "")}.");
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    private static Guid? ParseGuid(string? text)
        => text is null ? null : Guid.TryParse(text, out var g) ? g : throw new BadArgumentException($"Invalid GUID '{text}'.");
}
