namespace Discemu.FileSystems.Fat;

/// <summary>A FAT directory entry as listed: where its slots are in its parent and the short entry's fields.</summary>
internal sealed class FatEntry : FileSystemEntry
{
    /// <summary>The first cluster of the parent directory (0 for the fixed FAT12/16 root); unused for the root.</summary>
    public uint ParentCluster { get; init; }

    /// <summary>The slot (32-byte index) of the short entry in the parent.</summary>
    public int ShortSlot { get; init; }

    /// <summary>The slot of the first long-name entry (equal to <see cref="ShortSlot"/> without a long name).</summary>
    public int FirstSlot { get; init; }

    /// <summary>The short entry.</summary>
    public FatDirectoryEntry Raw { get; init; }

    /// <summary>The 8.3 name as shown (the alias when there is a long name).</summary>
    public string ShortName { get; init; } = "";

    /// <summary>True for the root directory.</summary>
    public bool IsRoot { get; init; }

    /// <summary>The first cluster of the content (the root cluster on FAT32, 0 for the fixed root or an empty file).</summary>
    public uint FirstCluster { get; init; }
}
