using System.Globalization;

namespace Discemu.Acquisition;

/// <summary>What is known about an acquisition's source: its path, size and, for block devices, what the OS says about the disk.</summary>
public sealed record SourceIdentity
{
    /// <summary>The path as given.</summary>
    public required string Path { get; init; }

    /// <summary>The path with symbolic links resolved (for <c>/dev/disk/by-id/…</c> names), when different.</summary>
    public string? ResolvedPath { get; init; }

    /// <summary><c>block device</c>, <c>file</c>, or <c>image</c> (a container format read through its driver).</summary>
    public required string Kind { get; init; }

    /// <summary>The format the source was read as (<c>raw</c> for devices and plain files).</summary>
    public required string Format { get; init; }

    /// <summary>The media size in bytes.</summary>
    public long Size { get; init; }

    /// <summary>The sector size the acquisition used.</summary>
    public int SectorSize { get; init; }

    /// <summary>The device's logical sector size, when the OS reports it.</summary>
    public int? LogicalSectorSize { get; init; }

    /// <summary>The device's physical sector size, when the OS reports it.</summary>
    public int? PhysicalSectorSize { get; init; }

    /// <summary>The kernel's name for the device (<c>sda</c>, <c>nvme0n1p2</c>).</summary>
    public string? DeviceName { get; init; }

    /// <summary>Major:minor device numbers.</summary>
    public string? DeviceNumbers { get; init; }

    /// <summary>The disk's vendor.</summary>
    public string? Vendor { get; init; }

    /// <summary>The disk's model.</summary>
    public string? Model { get; init; }

    /// <summary>The disk's serial number.</summary>
    public string? Serial { get; init; }

    /// <summary>Describes a source: for a block device, reads <c>/sys/class/block/NAME</c> (the disk's
    /// <c>device/{vendor,model,serial}</c> and <c>queue/*_block_size</c>, the parent disk's for a partition) and
    /// udev's database (<c>/run/udev/data/bMAJOR:MINOR</c>: <c>ID_MODEL</c>, <c>ID_SERIAL_SHORT</c>) where sysfs
    /// is silent.</summary>
    /// <param name="path">The source path.</param>
    /// <param name="format">The format it was opened as.</param>
    /// <param name="size">Its size.</param>
    /// <param name="isBlockDevice">True for a block device.</param>
    /// <param name="sysRoot">The sysfs mount (tests point it elsewhere).</param>
    /// <param name="udevRoot">udev's data folder.</param>
    public static SourceIdentity Describe(string path, string format, long size, bool isBlockDevice, string sysRoot = "/sys", string udevRoot = "/run/udev/data")
    {
        ArgumentNullException.ThrowIfNull(path);
        string? resolved = Resolve(path);
        var identity = new SourceIdentity
        {
            Path = path,
            ResolvedPath = resolved is not null && resolved != path ? resolved : null,
            Kind = isBlockDevice ? "block device" : format == "raw" ? "file" : "image",
            Format = format,
            Size = size,
        };
        if (!isBlockDevice) return identity;
        string name = System.IO.Path.GetFileName(resolved ?? path);
        string classDir = System.IO.Path.Combine(sysRoot, "class", "block", name);
        if (!Directory.Exists(classDir)) return identity with { DeviceName = name };
        string deviceDir = ResolveDirectory(classDir);
        // A partition's own folder has a "partition" file; the disk's facts live in the parent folder.
        string diskDir = File.Exists(System.IO.Path.Combine(deviceDir, "partition")) ? System.IO.Path.GetDirectoryName(deviceDir) ?? deviceDir : deviceDir;
        string? numbers = ReadLine(System.IO.Path.Combine(classDir, "dev"));
        var udev = numbers is null ? new Dictionary<string, string>() : ReadUdev(System.IO.Path.Combine(udevRoot, "b" + numbers));
        return identity with
        {
            DeviceName = name,
            DeviceNumbers = numbers,
            Vendor = ReadLine(System.IO.Path.Combine(diskDir, "device", "vendor")) ?? udev.GetValueOrDefault("ID_VENDOR"),
            Model = ReadLine(System.IO.Path.Combine(diskDir, "device", "model")) ?? udev.GetValueOrDefault("ID_MODEL"),
            Serial = ReadLine(System.IO.Path.Combine(diskDir, "device", "serial")) ?? udev.GetValueOrDefault("ID_SERIAL_SHORT") ?? udev.GetValueOrDefault("ID_SERIAL"),
            LogicalSectorSize = ReadInt(System.IO.Path.Combine(diskDir, "queue", "logical_block_size")),
            PhysicalSectorSize = ReadInt(System.IO.Path.Combine(diskDir, "queue", "physical_block_size")),
        };
    }

    private static string? Resolve(string path)
    {
        try
        {
            var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
            return target?.FullName;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static string ResolveDirectory(string dir)
    {
        try
        {
            var target = new DirectoryInfo(dir).ResolveLinkTarget(returnFinalTarget: true);
            return target?.FullName ?? dir;
        }
        catch (IOException) { return dir; }
        catch (UnauthorizedAccessException) { return dir; }
    }

    private static string? ReadLine(string file)
    {
        try
        {
            if (!File.Exists(file)) return null;
            using var reader = new StreamReader(file);
            var buffer = new char[4096];
            int n = reader.ReadBlock(buffer, 0, buffer.Length);
            var text = new string(buffer, 0, n).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static int? ReadInt(string file)
        => int.TryParse(ReadLine(file), NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : null;

    /// <summary>The <c>E:KEY=VALUE</c> properties of a udev database entry.</summary>
    private static Dictionary<string, string> ReadUdev(string file)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            if (!File.Exists(file) || new FileInfo(file).Length > 1 << 20) return result;
            foreach (var line in File.ReadLines(file))
            {
                if (!line.StartsWith("E:", StringComparison.Ordinal)) continue;
                int eq = line.IndexOf('=', StringComparison.Ordinal);
                if (eq > 2 && line[(eq + 1)..].Trim() is { Length: > 0 } value) result[line[2..eq]] = value;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return result;
    }
}
