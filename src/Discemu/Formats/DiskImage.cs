using Discemu.Block;

namespace Discemu.Formats;

/// <summary>
/// An opened image file: a <see cref="BlockDevice"/> presenting the virtual disk, plus what the
/// format knows about itself. Format drivers subclass it; optional abilities (checking, snapshots,
/// compressed writes, changing the backing file) are the interfaces in this namespace.
/// </summary>
public abstract class DiskImage : BlockDevice
{
    /// <summary>The format that opened the image.</summary>
    public abstract ImageFormat Format { get; }

    /// <summary>The path the image was opened from.</summary>
    public abstract string Path { get; }

    /// <summary>The opened backing image, or null when there is none (or it was not opened).</summary>
    public virtual DiskImage? Backing => null;

    /// <summary>The backing file name exactly as stored in the image, or null.</summary>
    public virtual string? BackingFileName => null;

    /// <summary>The backing file's format as stored in the image, or null.</summary>
    public virtual string? BackingFormatName => null;

    /// <summary>The allocation unit in bytes, when the format has one.</summary>
    public virtual int? ClusterSize => null;

    /// <summary>True when the image says it was not closed cleanly.</summary>
    public virtual bool IsDirty => false;

    /// <summary>Bytes the image occupies on the host, or null when unknown.</summary>
    public virtual long? ActualSize => null;

    /// <summary>
    /// Switches the image to qemu's <c>cache=unsafe</c>: its host files are never flushed to stable storage, not even
    /// by the driver's own ordering barriers (a VHDX log commit, for instance). Crash safety is lost; what is
    /// written still reaches the disk when the host writes it back. For copy targets (<c>convert</c>'s default).
    /// Formats that never flush on their own ignore it.
    /// </summary>
    public virtual void UseUnsafeCache() { }

    /// <summary>
    /// Reads what shows through unallocated parts of a layered image: <paramref name="below"/> at
    /// <paramref name="offset"/>, zeros past its end, or all zeros without one.
    /// </summary>
    protected static void ReadBelow(BlockDevice? below, long offset, Span<byte> buffer)
    {
        if (below is null)
        {
            buffer.Clear();
            return;
        }
        int n = (int)Math.Min(buffer.Length, Math.Max(0, below.Length - offset));
        if (n > 0) below.Read(offset, buffer[..n]);
        buffer[n..].Clear();
    }

    /// <summary>Format-specific facts for <c>info</c> (JSON-friendly values: string, number, bool, nested lists and dictionaries).</summary>
    public virtual IReadOnlyList<KeyValuePair<string, object?>> FormatSpecific => [];

    /// <summary>The file name of the backing image resolved against this image's folder, or null.</summary>
    public string? FullBackingFileName => BackingFileName is null ? null : ResolveRelative(Path, BackingFileName);

    /// <summary>Resolves <paramref name="name"/> (as stored in an image) relative to the folder of <paramref name="imagePath"/>.</summary>
    public static string ResolveRelative(string imagePath, string name)
        => System.IO.Path.IsPathRooted(name) || name.Contains("://", StringComparison.Ordinal)
            ? name
            : System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(imagePath)) ?? ".", name);
}

/// <summary>An image whose metadata can be checked (and repaired) like <c>qemu-img check</c>.</summary>
public interface ICheckableImage
{
    /// <summary>Checks the metadata; repairs what <paramref name="repair"/> allows (the image must be writable for that).</summary>
    /// <exception cref="CorruptImageException">The metadata is too damaged to check.</exception>
    ImageCheckResult Check(CheckRepair repair);
}

/// <summary>An image that can store whole clusters compressed.</summary>
public interface ICompressedWriter
{
    /// <summary>The unit a compressed write covers (the cluster size).</summary>
    int CompressedUnit { get; }

    /// <summary>
    /// Compresses and writes one aligned unit (the last may be short at the end of the disk).
    /// Safe to call from several threads at once: compression runs in the caller's thread.
    /// Falls back to a normal write when the data does not compress.
    /// </summary>
    void WriteCompressed(long offset, ReadOnlySpan<byte> data);
}

/// <summary>An image whose backing-file reference can be changed (for <c>rebase</c> and <c>commit</c>).</summary>
public interface IBackingChangeable
{
    /// <summary>Rewrites the stored backing reference; null removes it. Does not copy any data.</summary>
    void SetBackingFile(string? fileName, string? formatName);
}

/// <summary>An image that can drop all of its own data, so every read falls through to its backing file
/// (what <c>commit</c> does to the top image afterwards). Unlike <see cref="Block.BlockDevice.Discard"/>, which
/// may leave zeros so the backing does not show through, this always deallocates.</summary>
public interface IEmptyableImage
{
    /// <summary>Deallocates every cluster of this layer.</summary>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    void MakeEmpty();
}

/// <summary>An image with internal snapshots.</summary>
public interface ISnapshotImage
{
    /// <summary>The snapshots, oldest first.</summary>
    IReadOnlyList<SnapshotInfo> Snapshots { get; }

    /// <summary>Opens a read-only view of a snapshot by id or name.</summary>
    /// <exception cref="BadArgumentException">No snapshot has that id or name.</exception>
    BlockDevice OpenSnapshot(string idOrName);
}

/// <summary>An image whose internal snapshots can be created, applied and deleted (<c>qemu-img snapshot -c/-a/-d</c>).</summary>
public interface IEditableSnapshotImage : ISnapshotImage
{
    /// <summary>Records the disk as it is now as a new snapshot named <paramref name="name"/> (names need not be unique; ids are).</summary>
    /// <returns>The new snapshot, with its id.</returns>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    /// <exception cref="BadArgumentException">The name is empty or too long.</exception>
    /// <exception cref="UnsupportedFeatureException">The image holds the most snapshots its format allows, or its refcounts are too narrow.</exception>
    /// <exception cref="CorruptImageException">The image's tables are damaged.</exception>
    SnapshotInfo CreateSnapshot(string name);

    /// <summary>Reverts the disk (contents and virtual size) to the snapshot with id, else name, <paramref name="idOrName"/>; the snapshot is kept.</summary>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    /// <exception cref="BadArgumentException">No snapshot has that id or name.</exception>
    /// <exception cref="CorruptImageException">The image's tables are damaged.</exception>
    void ApplySnapshot(string idOrName);

    /// <summary>Deletes the snapshot with id, else name, <paramref name="idOrName"/>, freeing what only it used.</summary>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    /// <exception cref="BadArgumentException">No snapshot has that id or name.</exception>
    /// <exception cref="CorruptImageException">The image's tables are damaged.</exception>
    void DeleteSnapshot(string idOrName);
}

/// <summary>One internal snapshot, as <c>qemu-img info</c> lists it.</summary>
public sealed record SnapshotInfo(string Id, string Name, long VmStateSize, DateTimeOffset Date, TimeSpan VmClock, long VirtualSize, ulong IcountOrMinusOne);

/// <summary>What <c>check</c> may repair.</summary>
[Flags]
public enum CheckRepair
{
    /// <summary>Report only.</summary>
    None = 0,
    /// <summary>Free leaked clusters.</summary>
    Leaks = 1,
    /// <summary>Fix every error that can be fixed.</summary>
    All = 3,
}

/// <summary>The outcome of checking an image, with qemu-img check's counters.</summary>
public sealed class ImageCheckResult
{
    /// <summary>Errors in the metadata (qemu's "corruptions").</summary>
    public int Corruptions { get; set; }
    /// <summary>Clusters allocated but referenced by nothing.</summary>
    public int Leaks { get; set; }
    /// <summary>Errors that stopped the check itself (I/O, unreadable tables).</summary>
    public int CheckErrors { get; set; }
    /// <summary>Corruptions repaired.</summary>
    public int CorruptionsFixed { get; set; }
    /// <summary>Leaks repaired.</summary>
    public int LeaksFixed { get; set; }
    /// <summary>The offset just past the last used byte of the file.</summary>
    public long? ImageEndOffset { get; set; }
    /// <summary>Clusters of the virtual disk.</summary>
    public long? TotalClusters { get; set; }
    /// <summary>Virtual clusters that are allocated.</summary>
    public long? AllocatedClusters { get; set; }
    /// <summary>Allocated clusters that do not follow their predecessor on the host.</summary>
    public long? FragmentedClusters { get; set; }
    /// <summary>Allocated clusters stored compressed.</summary>
    public long? CompressedClusters { get; set; }
    /// <summary>One line per problem found, in qemu-img's wording where it has one.</summary>
    public List<string> Messages { get; } = [];

    /// <summary>qemu-img check's exit code: 0 clean, 2 corruptions, 3 leaks only, 1 check errors.</summary>
    public int ExitCode => CheckErrors > 0 ? 1 : Corruptions > 0 ? 2 : Leaks > 0 ? 3 : 0;
}
