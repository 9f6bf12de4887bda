using System.Globalization;
using Discemu.Formats;
using Discemu.Util;

namespace Discemu.Cli.Output;

/// <summary>
/// The "Formatting 'FILE', fmt=FMT ..." line of <c>create</c>, laid out as qemu-img 7.2 prints it:
/// each format's options in qemu-img's order, with the defaults qemu-img shows for options not
/// given, sizes in bytes, and options qemu-img does not know for the format at the end.
/// </summary>
internal static class CreateSummary
{
    /// <summary>One slot of a format's line: the option and the default printed when it is not given (null: omitted).</summary>
    private readonly record struct Slot(string Key, string? Default = null);

    /// <summary>The order qemu-img 7.2 prints each format's options in (observed with qemu-img create).</summary>
    private static readonly Dictionary<string, Slot[]> Layouts = new(StringComparer.Ordinal)
    {
        ["qcow2"] =
        [
            new("cluster_size", "65536"), new("extended_l2", "off"), new("preallocation"), new("compression_type", "zlib"),
            new("size"), new("backing_file"), new("backing_fmt"), new("compat"), new("data_file"), new("data_file_raw"),
            new("lazy_refcounts", "off"), new("refcount_bits", "16"), new("nocow"),
        ],
        ["raw"] = [new("size"), new("preallocation"), new("nocow")],
        ["vdi"] = [new("size"), new("static", "off"), new("preallocation")],
        ["vmdk"] =
        [
            new("size"), new("adapter_type"), new("backing_file"), new("backing_fmt"), new("compat6", "off"), new("hwversion", "undefined"),
            new("toolsversion"), new("subformat"), new("zeroed_grain"), new("nocow"), new("preallocation"), new("extent_size_hint"),
        ],
        ["vpc"] = [new("size"), new("subformat"), new("force_size")],
        ["vhdx"] = [new("size"), new("log_size", "1048576"), new("block_size", "0"), new("subformat")],
        ["qed"] = [new("size"), new("cluster_size", "65536")],
        ["qcow"] = [new("size")],
    };

    /// <summary>Options whose values qemu-img prints as a byte count.</summary>
    private static readonly HashSet<string> SizeKeys = new(StringComparer.Ordinal) { "size", "cluster_size", "log_size", "block_size" };

    /// <summary>Builds the line.</summary>
    /// <param name="path">The file as given.</param>
    /// <param name="format">The image format.</param>
    /// <param name="options">The <c>-o</c> options given (read with their raw values).</param>
    /// <param name="size">The virtual size.</param>
    /// <param name="backing">The backing file name, from -b or -o.</param>
    /// <param name="backingFormat">The backing format, from -F, -o or probing.</param>
    public static string Describe(string path, ImageFormat format, CreateOptions options, long size, string? backing, string? backingFormat)
    {
        var given = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in options.Keys)
            if (options.GetString(key) is { } value) given[key] = SizeKeys.Contains(key) ? AsBytes(key, value) : value;
        given["size"] = size.ToString(CultureInfo.InvariantCulture);
        given.Remove("backing_file");
        given.Remove("backing_fmt");
        if (backing is not null) given["backing_file"] = backing;
        if (backingFormat is not null) given["backing_fmt"] = backingFormat;

        var parts = new List<string> { $"Formatting '{path}', fmt={format.Name}" };
        var layout = Layouts.GetValueOrDefault(format.Name) ?? [new Slot("size"), new Slot("backing_file"), new Slot("backing_fmt")];
        // qemu-img puts qcow2's nested encryption options first.
        foreach (var (key, value) in given)
            if (key.StartsWith("encrypt.", StringComparison.Ordinal)) parts.Add($"{key}={value}");
        var placed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var slot in layout)
        {
            placed.Add(slot.Key);
            if (given.TryGetValue(slot.Key, out var value)) parts.Add($"{slot.Key}={value}");
            else if (slot.Default is not null) parts.Add($"{slot.Key}={slot.Default}");
        }
        foreach (var (key, value) in given)
            if (!placed.Contains(key) && !key.StartsWith("encrypt.", StringComparison.Ordinal)) parts.Add($"{key}={value}");
        return string.Join(' ', parts);
    }

    private static string AsBytes(string key, string value)
    {
        try
        {
            return SizeParser.Parse(value, key).ToString(CultureInfo.InvariantCulture);
        }
        catch (BadArgumentException)
        {
            return value;
        }
    }
}
