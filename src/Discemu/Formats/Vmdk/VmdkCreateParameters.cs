using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

/// <summary>The subformats <c>create</c> writes (qemu-img's <c>subformat</c> values).</summary>
internal enum VmdkSubformat { MonolithicSparse, MonolithicFlat, TwoGbMaxExtentSparse, TwoGbMaxExtentFlat, StreamOptimized }

/// <summary>The <c>-o</c> options of a new VMDK, validated as qemu-img validates them.</summary>
internal sealed record VmdkCreateParameters
{
    public VmdkSubformat Subformat { get; init; }
    public string AdapterType { get; init; } = "ide";
    public string HwVersion { get; init; } = "4";
    public string ToolsVersion { get; init; } = "2147483647";
    public bool ZeroedGrain { get; init; }
    public string Preallocation { get; init; } = "off";
    public string? BackingFile { get; init; }
    public string? BackingFormat { get; init; }
    public long? Size { get; init; }

    /// <summary>True for the subformats whose extents are raw files.</summary>
    public bool Flat => Subformat is VmdkSubformat.MonolithicFlat or VmdkSubformat.TwoGbMaxExtentFlat;

    /// <summary>The descriptor's createType.</summary>
    public string CreateType => Name(Subformat);

    /// <summary>The option names, in qemu-img's spelling.</summary>
    public static readonly string[] SubformatNames = ["monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat", "streamOptimized"];

    /// <summary>The adapter types qemu-img 7.2 accepts.</summary>
    public static readonly string[] AdapterTypes = ["ide", "lsilogic", "buslogic", "legacyESX"];

    /// <summary>The name of a subformat.</summary>
    public static string Name(VmdkSubformat s) => SubformatNames[(int)s];

    /// <summary>Reads and validates the options (marking them used).</summary>
    /// <exception cref="BadArgumentException">A value is invalid or options conflict.</exception>
    public static VmdkCreateParameters Parse(CreateOptions o, string? backingFile, string? backingFormat)
    {
        string subformat = o.GetString("subformat") ?? "monolithicSparse";
        int index = Array.IndexOf(SubformatNames, subformat);
        if (index < 0) throw new BadArgumentException($"Invalid parameter value: {subformat} (subformat expects one of {string.Join(", ", SubformatNames)}).");
        string adapter = o.GetString("adapter_type") ?? "ide";
        if (!AdapterTypes.Contains(adapter, StringComparer.Ordinal))
            throw new BadArgumentException($"Invalid parameter value: {adapter} (adapter_type expects one of {string.Join(", ", AdapterTypes)}).");
        bool compat6 = o.GetBool("compat6", false);
        string? hw = o.GetString("hwversion");
        if (hw == "undefined") hw = null;
        if (compat6 && hw is not null) throw new BadArgumentException("compat6 cannot be enabled with hwversion set.");
        string tools = o.GetString("toolsversion") ?? "2147483647";
        CheckText(hw, "hwversion");
        CheckText(tools, "toolsversion");
        bool zeroed = o.GetBool("zeroed_grain", false);
        string prealloc = o.GetString("preallocation") ?? "off";
        if (prealloc is not ("off" or "falloc" or "full")) throw new BadArgumentException($"Unsupported preallocation mode: {prealloc}");
        backingFile = backingFile ?? o.GetString("backing_file");
        backingFormat = backingFormat ?? o.GetString("backing_fmt");
        if (backingFile is { Length: 0 }) backingFile = null;
        long? size = o.Contains("size") ? o.GetSize("size", 0) : null;
        var p = new VmdkCreateParameters
        {
            Subformat = (VmdkSubformat)index,
            AdapterType = adapter,
            HwVersion = compat6 ? "6" : hw ?? "4",
            ToolsVersion = tools,
            ZeroedGrain = zeroed,
            Preallocation = prealloc,
            BackingFile = backingFile,
            BackingFormat = backingFormat,
            Size = size,
        };
        if (p.Flat && backingFile is not null) throw new BadArgumentException("Flat image can't have backing file.");
        if (backingFile is not null) CheckText(backingFile, "backing_file");
        return p;
    }

    private static void CheckText(string? value, string key)
    {
        if (value is null) return;
        if (value.Length == 0 || value.Contains('"') || value.Contains('\n') || value.Contains('\r') || value.Contains('\0'))
            throw new BadArgumentException($"Invalid parameter value for {key}: it must be non-empty and hold no quotes or line breaks.");
    }

    /// <summary>The disk database for these options.</summary>
    public VmdkDiskDatabase DiskDatabase => new(AdapterType, HwVersion, ToolsVersion, Subformat == VmdkSubformat.StreamOptimized ? "4" : null);

    /// <summary>Rounds a requested size up to whole sectors (as qemu-img does) and checks it.</summary>
    /// <exception cref="BadArgumentException">The size is negative or too large for the subformat.</exception>
    public long CheckSize(long size)
    {
        if (size < 0) throw new BadArgumentException("The image size must not be negative.");
        long limit = Flat ? MaxVirtualBytes : MaxSparseBytes;
        if (size > limit) throw new BadArgumentException($"The size {size} is larger than {CreateType} supports ({limit} bytes).");
        return (size + Sector - 1) / Sector * Sector;
    }

    /// <summary>The largest sparse disk created: 64 TiB (grain tables must stay within 32-bit sector offsets).</summary>
    public const long MaxSparseBytes = 64L << 40;
}
