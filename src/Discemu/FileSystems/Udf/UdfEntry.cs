namespace Discemu.FileSystems.Udf;

/// <summary>The directories from the root down to a directory, by ICB address, to refuse loops.</summary>
internal sealed class UdfDirectoryChain(UdfIcbAddress address, UdfDirectoryChain? parent)
{
    public UdfIcbAddress Address { get; } = address;
    public UdfDirectoryChain? Parent { get; } = parent;
    public int Depth { get; } = (parent?.Depth ?? 0) + 1;

    /// <summary>True when <paramref name="address"/> is this directory or one above it.</summary>
    public bool Contains(UdfIcbAddress address)
    {
        for (var c = this; c is not null; c = c.Parent)
            if (c.Address == address) return true;
        return false;
    }
}

/// <summary>A UDF entry: its file entry, and for directories the directories above it.</summary>
internal sealed class UdfEntry : FileSystemEntry
{
    /// <summary>The file system that made the entry.</summary>
    public required UdfFileSystem Owner { get; init; }

    /// <summary>The file entry.</summary>
    public required UdfNode Node { get; init; }

    /// <summary>For directories: the chain from the root down to this directory.</summary>
    public UdfDirectoryChain? Chain { get; init; }
}
