using System.Globalization;
using Discemu.Partitions;
using Discemu.Partitions.Gpt;
using Discemu.Util;

using Discemu.Cli.Output;

namespace Discemu.Cli.Commands;

/// <summary>The listing of <c>discemu part IMAGE</c>, as a table or as JSON. Offsets are bytes; End is exclusive.</summary>
internal static partial class PartCommand
{
    private static void WriteHuman(TextWriter o, string path, PartitionTable table)
    {
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Disk {path}: {HumanFormat.SizeWithBytes(table.Device.Length)}, {table.SectorCount} sectors of {table.SectorSize} bytes"));
        o.WriteLine($"Partition table: {table.Format.Name}");
        o.WriteLine($"Disk identifier: {table.DiskId}");
        if (table.Format.Name == "gpt") o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Usable bytes: {table.UsableStart}..{table.UsableEnd}"));
        if (table.Partitions.Count > 0)
        {
            o.WriteLine();
            var rows = new List<string[]> { new[] { "Number", "Start", "End", "Size", "Type", "Name", "Flags" } };
            foreach (var p in table.Partitions)
            {
                rows.Add([
                    p.Number.ToString(CultureInfo.InvariantCulture), p.Start.ToString(CultureInfo.InvariantCulture),
                    p.End.ToString(CultureInfo.InvariantCulture), SizeParser.Format(p.Length), TypeText(p), p.Name ?? "", FlagsText(p),
                ]);
            }
            int[] widths = Enumerable.Range(0, 7).Select(c => rows.Max(r => r[c].Length)).ToArray();
            foreach (var r in rows)
            {
                var cells = r.Select((cell, c) => c is 0 or 1 or 2 or 3 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]));
                o.WriteLine(string.Join("  ", cells).TrimEnd());
            }
        }
        foreach (var w in table.Warnings) o.WriteLine($"Warning: {w}");
    }

    private static string TypeText(Partition p) => p.Type.MbrCode is { } code ? $"{p.Type.Name} ({code:x2})" : p.Type.Name == "Unknown" ? p.Type.ToString() : p.Type.Name;

    private static string FlagsText(Partition p) => p.UniqueId is null ? string.Join(' ', p.Flags) : GptAttributes.Format(p.Attributes);

    private static void WriteJson(TextWriter o, string path, PartitionTable table)
    {
        JsonOut.Write(o, w =>
        {
            w.WriteStartObject();
            w.WriteString("filename", path);
            w.WriteString("table", table.Format.Name);
            w.WriteString("disk-id", table.DiskId);
            w.WriteNumber("sector-size", table.SectorSize);
            w.WriteNumber("disk-size", table.Device.Length);
            w.WriteNumber("usable-start", table.UsableStart);
            w.WriteNumber("usable-end", table.UsableEnd);
            w.WriteStartArray("partitions");
            foreach (var p in table.Partitions)
            {
                w.WriteStartObject();
                w.WriteNumber("number", p.Number);
                w.WriteString("kind", p.Kind.ToString().ToLowerInvariant());
                w.WriteNumber("start", p.Start);
                w.WriteNumber("end", p.End);
                w.WriteNumber("size", p.Length);
                w.WriteString("type", p.Type.ToString());
                w.WriteString("type-name", p.Type.Name);
                if (p.Name is not null) w.WriteString("name", p.Name);
                if (p.UniqueId is { } id) w.WriteString("uuid", id.ToString("D").ToUpperInvariant());
                w.WriteBoolean("bootable", p.Bootable);
                if (p.UniqueId is not null) w.WriteNumber("attributes", p.Attributes);
                w.WriteStartArray("flags");
                foreach (var f in p.Flags) w.WriteStringValue(f);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("warnings");
            foreach (var warning in table.Warnings) w.WriteStringValue(warning);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }
}
