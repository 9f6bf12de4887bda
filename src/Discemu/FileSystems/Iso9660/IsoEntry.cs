namespace Discemu.FileSystems.Iso9660;

/// <summary>What an entry is beyond the directory tree: a real record, or El Torito's virtual <c>[BOOT]</c> folder and images.</summary>
internal enum IsoVirtual
{
    None,
    BootDirectory,
    BootImage,
}

/// <summary>The directories from the root down to (and including) a directory's parent, as byte ranges, to refuse loops.</summary>
internal sealed class DirectoryChain(long start, long length, DirectoryChain? parent)
{
    public long Start { get; } = start;
    public long Length { get; } = length;
    public DirectoryChain? Parent { get; } = parent;
    public int Depth { get; } = (parent?.Depth ?? 0) + 1;

    /// <summary>True when [start, start+length) overlaps this directory or one above it (a zero-length range is treated as one byte).</summary>
    public bool Overlaps(long start, long length)
    {
        long end = start + Math.Max(1, length);
        for (var c = this; c is not null; c = c.Parent)
            if (start < c.Start + Math.Max(1, c.Length) && c.Start < end) return true;
        return false;
    }
}

/// <summary>An ISO 9660 entry: the extents holding its content and what is needed to read it.</summary>
internal sealed class IsoEntry : FileSystemEntry
{
    /// <summary>The file system that made the entry.</summary>
    public required IsoFileSystem Owner { get; init; }

    /// <summary>Where the content is on the device (byte offset, length), in order; one extent for directories.</summary>
    public (long Offset, long Length)[] Extents { get; init; } = [];

    /// <summary>For directories: the directories above this one.</summary>
    public DirectoryChain? Ancestors { get; init; }

    /// <summary>Real record, or a virtual El Torito entry.</summary>
    public IsoVirtual Virtual { get; init; }

    /// <summary>The ZF entry of a zisofs-compressed file.</summary>
    public ZisofsInfo? Zisofs { get; init; }

    /// <summary>Why the content cannot be read, or null.</summary>
    public string? Unsupported { get; init; }
}
