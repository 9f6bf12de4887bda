using Discemu.Block;
using Discemu.FileSystems.Fat;
using Discemu.Formats;
using Discemu.Partitions;

namespace Discemu.Cli.Commands;

/// <summary><c>check IMAGE[:N]</c> on FAT: the whole disk, one partition, or every FAT partition after the table check.</summary>
internal static partial class CheckCommand
{
    /// <summary>Turns <c>IMAGE:N</c> into the image path and N when the argument is not itself an existing file.</summary>
    private static int? SplitPartition(ref string path)
    {
        if (File.Exists(path)) return null;
        var parsed = PartitionPath.Parse(path, File.Exists);
        if (parsed.PartitionNumber is not { } n || parsed.InnerPath is not null) return null;
        path = parsed.ImagePath;
        return n;
    }

    private static bool HoldsFat(BlockDevice device)
    {
        if (device.Length < FatConstants.BootSectorLength) return false;
        var sector = new byte[FatConstants.BootSectorLength];
        device.Read(0, sector);
        return FatBootSector.LooksLikeFat(sector);
    }

    private static void RefuseRepair(CheckRepair mode)
    {
        if (mode != CheckRepair.None) throw new UnsupportedFeatureException("FAT file systems are checked read-only (like fsck.fat -n); -r is not supported.");
    }

    /// <summary>The FAT check of a disk that is one FAT volume, or null when it is not.</summary>
    private static ImageCheckResult? CheckFatVolume(DiskImage image, CheckRepair mode)
    {
        if (!HoldsFat(image)) return null;
        RefuseRepair(mode);
        return FatChecker.Check(image);
    }

    /// <summary>The FAT check of partition <paramref name="number"/>, or null when it holds no FAT.</summary>
    private static (ImageCheckResult, string)? CheckFatPartition(DiskImage image, string path, int number, CheckRepair mode)
    {
        var table = PartitionTableRegistry.Default.Open(image, new PartitionTableOpenOptions { Path = path });
        using var device = table.Open(number);
        if (!HoldsFat(device)) return null;
        RefuseRepair(mode);
        return (FatChecker.Check(device), table.Format.Name);
    }

    /// <summary>After a partition table check: checks every partition holding FAT and adds its findings, prefixed with the partition.</summary>
    private static void CheckFatPartitions(DiskImage image, string path, ImageCheckResult result)
    {
        PartitionTable table;
        try
        {
            table = PartitionTableRegistry.Default.Open(image, new PartitionTableOpenOptions { Path = path });
        }
        catch (DiscemuException)
        {
            return; // already counted by the table check
        }
        foreach (var p in table.Partitions)
        {
            if (p.Kind == PartitionKind.Extended) continue;
            using var device = table.Open(p.Number);
            if (!HoldsFat(device)) continue;
            var fat = FatChecker.Check(device);
            result.Corruptions += fat.Corruptions;
            result.Leaks += fat.Leaks;
            result.CheckErrors += fat.CheckErrors;
            foreach (var m in fat.Messages) result.Messages.Add($"partition {p.Number}: {m}");
        }
    }
}
