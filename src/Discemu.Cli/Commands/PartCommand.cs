using System.CommandLine;
using Discemu.Formats;
using Discemu.Partitions;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>part [-f fmt] [--sector-size N] [--output human|json] IMAGE</c> lists the partition table;
/// <c>part create|add|rm|set</c> edit it (PartCommand.Edit.cs).
/// </summary>
internal static partial class PartCommand
{
    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var sectorSize = SectorSizeOption();
        var output = CommonOptions.Output();
        var file = CommonOptions.File("image");
        file.Hidden = true; // shown in the description: a visible parent argument would appear in every subcommand's usage line
        var cmd = new Command("part", "'part IMAGE' lists a disk image's partition table (MBR or GPT); the commands below edit it") { format, sectorSize, output, file };
        cmd.Subcommands.Add(BuildCreate(ctx));
        cmd.Subcommands.Add(BuildAdd(ctx));
        cmd.Subcommands.Add(BuildRemove(ctx));
        cmd.Subcommands.Add(BuildSet(ctx));
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            using var image = ctx.Open(path, ctx.FormatOption(parse, format));
            var table = OpenTable(image, path, parse.GetValue(sectorSize));
            if (parse.GetValue(output) == "json") WriteJson(ctx.Out, path, table);
            else WriteHuman(ctx.Out, path, table);
            return 0;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    private static Option<int?> SectorSizeOption(string description = "Logical sector size in bytes (default: what a GPT says, else 512)")
    {
        var option = new Option<int?>("--sector-size") { Description = description, HelpName = "512|4096" };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } v && !PartitionTableFormat.SectorSizes.Contains(v))
                result.AddError($"Unsupported sector size {v}: expected {string.Join(", ", PartitionTableFormat.SectorSizes)}.");
        });
        return option;
    }

    /// <summary>Reads the table on an opened image.</summary>
    /// <exception cref="BadArgumentException">The disk has no partition table.</exception>
    private static PartitionTable OpenTable(DiskImage image, string path, int? sectorSize)
        => PartitionTableRegistry.Default.Open(image, new PartitionTableOpenOptions { Path = path, SectorSize = sectorSize });
}
