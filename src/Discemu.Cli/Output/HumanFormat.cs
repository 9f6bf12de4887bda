using System.Collections;
using System.Globalization;
using Discemu.Formats;
using Discemu.Util;

namespace Discemu.Cli.Output;

/// <summary>Human-readable renderings shared by commands, laid out as qemu-img lays them out.</summary>
internal static class HumanFormat
{
    /// <summary>"4 MiB (4194304 bytes)".</summary>
    public static string SizeWithBytes(long bytes) => $"{SizeParser.Format(bytes)} ({bytes} bytes)";

    /// <summary>An offset for map's human table: hex with 0x, except plain 0.</summary>
    public static string Hex(long value) => value == 0 ? "0" : "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Writes the "Snapshot list:" table.</summary>
    public static void WriteSnapshots(TextWriter output, IReadOnlyList<SnapshotInfo> snapshots)
    {
        output.WriteLine("Snapshot list:");
        output.WriteLine($"{"ID",-9} {"TAG",-17} {"VM SIZE",7}{"DATE",20}{"VM CLOCK",13}{"ICOUNT",11}");
        foreach (var s in snapshots)
        {
            string date = s.Date.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            string icount = s.IcountOrMinusOne == ulong.MaxValue ? "" : s.IcountOrMinusOne.ToString(CultureInfo.InvariantCulture);
            output.WriteLine($"{s.Id,-9} {s.Name,-17} {SizeParser.Format(s.VmStateSize),7}{" " + date,20}{" " + Clock(s.VmClock),13}{" " + icount,11}");
        }
    }

    /// <summary>A VM clock as HH:MM:SS.mmm (hours may exceed 99).</summary>
    public static string Clock(TimeSpan t)
    {
        long ms = (long)t.TotalMilliseconds;
        long hours = ms / 3_600_000;
        return string.Create(CultureInfo.InvariantCulture, $"{hours:00}:{ms / 60_000 % 60:00}:{ms / 1000 % 60:00}.{ms % 1000:000}");
    }

    /// <summary>Writes format-specific facts indented, nested lists and dictionaries further in ("lazy-refcounts" prints as "lazy refcounts").</summary>
    public static void WriteTree(TextWriter output, IEnumerable<KeyValuePair<string, object?>> pairs, int indent)
    {
        foreach (var (key, value) in pairs) WriteEntry(output, key.Replace('-', ' '), value, indent);
    }

    private static void WriteEntry(TextWriter output, string label, object? value, int indent)
    {
        string pad = new(' ', indent);
        switch (value)
        {
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                output.WriteLine($"{pad}{label}:");
                WriteTree(output, pairs, indent + 4);
                break;
            case IDictionary dict:
                output.WriteLine($"{pad}{label}:");
                foreach (DictionaryEntry e in dict)
                    WriteEntry(output, (Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "").Replace('-', ' '), e.Value, indent + 4);
                break;
            case IEnumerable list when value is not string:
                output.WriteLine($"{pad}{label}:");
                int i = 0;
                foreach (var item in list) WriteEntry(output, $"[{i++}]", item, indent + 4);
                break;
            default:
                output.WriteLine($"{pad}{label}: {Scalar(value)}");
                break;
        }
    }

    private static string Scalar(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
