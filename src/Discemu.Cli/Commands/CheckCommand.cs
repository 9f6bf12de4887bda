using System.CommandLine;
using System.Globalization;
using Discemu.Cli.Output;
using Discemu.Formats;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>check [-f fmt] [-r leaks|all] [--output human|json] [-q] [-U] filename</c>: exit 0 clean,
/// 1 check errors (or the image could not be opened), 2 corruptions, 3 leaks only, 63 checks unsupported.
/// </summary>
internal static partial class CheckCommand
{
    /// <summary>Exit code when the format cannot be checked.</summary>
    public const int NotSupportedExit = 63;

    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var repair = new Option<string?>("-r") { Description = "Repair leaks only, or all errors", HelpName = "leaks|all" };
        repair.AcceptOnlyFromAmong("leaks", "all");
        var output = CommonOptions.Output();
        var quiet = CommonOptions.Quiet();
        var share = CommonOptions.ForceShare();
        var srcCache = CommonOptions.Cache("-T");
        var file = CommonOptions.File();
        var cmd = new Command("check", "Check an image's metadata for errors") { format, repair, output, quiet, share, srcCache, file };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            int? partitionNumber = SplitPartition(ref path);
            var mode = parse.GetValue(repair) switch { "leaks" => CheckRepair.Leaks, "all" => CheckRepair.All, _ => CheckRepair.None };
            using var image = ctx.Open(path, ctx.FormatOption(parse, format), writable: mode != CheckRepair.None, openBacking: false);
            ImageCheckResult result;
            string? tableName = null;
            if (partitionNumber is { } number)
            {
                if (CheckFatPartition(image, path, number, mode) is not { } fatResult)
                {
                    ctx.Err.WriteLine($"{Cli.ToolName}: Partition {number} holds no file system that can be checked");
                    return NotSupportedExit;
                }
                (result, tableName) = fatResult;
            }
            else if (image is ICheckableImage checkable) result = checkable.Check(mode);
            else if (CheckFatVolume(image, mode) is { } fatCheck) result = fatCheck;
            else if (CheckPartitionTable(image, path, mode) is { } tableCheck)
            {
                (result, tableName) = tableCheck;
                CheckFatPartitions(image, path, result);
            }
            else
            {
                ctx.Err.WriteLine($"{Cli.ToolName}: This image format does not support checks");
                return NotSupportedExit;
            }
            foreach (var m in result.Messages) ctx.Err.WriteLine(m);
            if (parse.GetValue(output) == "json") WriteJson(ctx.Out, path, image.Format.Name, result, tableName);
            else if (!parse.GetValue(quiet)) WriteHuman(ctx.Out, result);
            return result.ExitCode;
        }, file: parse.GetValue(file)));
        return cmd;
    }

    /// <summary>
    /// For an image format without its own checker: checks the disk's partition table, if it has one. A table
    /// too damaged to read (both GPT copies bad, an EBR chain that loops) counts as one corruption.
    /// </summary>
    private static (ImageCheckResult, string)? CheckPartitionTable(DiskImage image, string path, CheckRepair mode)
    {
        if (Partitions.PartitionTableRegistry.Default.Probe(image) is not { } found) return null;
        try
        {
            var table = found.Format.Open(image, new Partitions.PartitionTableOpenOptions { Path = path });
            return (table.Check(mode), found.Format.Name);
        }
        catch (CorruptImageException e)
        {
            var result = new ImageCheckResult { Corruptions = 1 };
            result.Messages.Add($"ERROR: {e.Message}");
            return (result, found.Format.Name);
        }
    }

    private static void WriteHuman(TextWriter o, ImageCheckResult r)
    {
        if (r.LeaksFixed > 0 || r.CorruptionsFixed > 0)
        {
            o.WriteLine("The following inconsistencies were found and repaired:");
            o.WriteLine();
            o.WriteLine($"    {r.LeaksFixed} leaked clusters");
            o.WriteLine($"    {r.CorruptionsFixed} corruptions");
            o.WriteLine();
            o.WriteLine("Double checking the fixed image now...");
        }
        if (r.Corruptions == 0 && r.Leaks == 0 && r.CheckErrors == 0) o.WriteLine("No errors were found on the image.");
        if (r.Corruptions > 0)
        {
            o.WriteLine();
            o.WriteLine($"{r.Corruptions} errors were found on the image.");
            o.WriteLine("Data may be corrupted, or further writes to the image may corrupt it.");
        }
        if (r.Leaks > 0)
        {
            o.WriteLine();
            o.WriteLine($"{r.Leaks} leaked clusters were found on the image.");
            o.WriteLine("This means waste of disk space, but no harm to data.");
        }
        if (r.CheckErrors > 0)
        {
            o.WriteLine();
            o.WriteLine($"{r.CheckErrors} internal errors have occurred during the check.");
        }
        if (r.TotalClusters is > 0 && r.AllocatedClusters is > 0 and var allocated)
        {
            double total = r.TotalClusters.Value, alloc = allocated;
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{allocated}/{r.TotalClusters} = {alloc * 100 / total:F2}% allocated, {(r.FragmentedClusters ?? 0) * 100 / alloc:F2}% fragmented, {(r.CompressedClusters ?? 0) * 100 / alloc:F2}% compressed clusters"));
        }
        if (r.ImageEndOffset is > 0) o.WriteLine($"Image end offset: {r.ImageEndOffset}");
    }

    private static void WriteJson(TextWriter o, string path, string format, ImageCheckResult r, string? partitionTable)
    {
        JsonOut.Write(o, w =>
        {
            w.WriteStartObject();
            w.WriteString("filename", path);
            w.WriteString("format", format);
            if (partitionTable is not null) w.WriteString("partition-table", partitionTable);
            w.WriteNumber("check-errors", r.CheckErrors);
            if (r.Corruptions > 0) w.WriteNumber("corruptions", r.Corruptions);
            if (r.Leaks > 0) w.WriteNumber("leaks", r.Leaks);
            if (r.CorruptionsFixed > 0) w.WriteNumber("corruptions-fixed", r.CorruptionsFixed);
            if (r.LeaksFixed > 0) w.WriteNumber("leaks-fixed", r.LeaksFixed);
            if (r.ImageEndOffset is > 0) w.WriteNumber("image-end-offset", r.ImageEndOffset.Value);
            if (r.TotalClusters is > 0) w.WriteNumber("total-clusters", r.TotalClusters.Value);
            if (r.AllocatedClusters is > 0) w.WriteNumber("allocated-clusters", r.AllocatedClusters.Value);
            if (r.FragmentedClusters is > 0) w.WriteNumber("fragmented-clusters", r.FragmentedClusters.Value);
            if (r.CompressedClusters is > 0) w.WriteNumber("compressed-clusters", r.CompressedClusters.Value);
            w.WriteEndObject();
        });
    }
}
