using System.Text;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

public sealed partial class VmdkImage
{
    /// <summary>Gives the disk a new CID on the first change after opening (VMware's and qemu's rule).</summary>
    private void EnsureCidUpdated()
    {
        if (Volatile.Read(ref _cidUpdated)) return;
        lock (_lock)
        {
            if (_cidUpdated) return;
            if (HasDescriptor) PersistDescriptor(_descriptor.WithCid(VmdkDescriptor.NewCid()));
            _cidUpdated = true;
        }
    }

    /// <summary>True when the disk has a descriptor to rewrite (a file, or one embedded in the sparse extent).</summary>
    private bool HasDescriptor => _descriptorFile is not null || _embeddedIn is not null;

    /// <summary>Writes <paramref name="descriptor"/> where the disk keeps its descriptor. Caller holds the lock.</summary>
    /// <exception cref="BadArgumentException">An embedded descriptor would no longer fit its sectors.</exception>
    private void PersistDescriptor(VmdkDescriptor descriptor)
    {
        var bytes = descriptor.ToBytes();
        if (_embeddedIn is { } sparse)
        {
            long room = (long)sparse.Header.DescriptorSectors * Sector;
            if (bytes.Length > room)
                throw new BadArgumentException($"The descriptor ({bytes.Length} bytes) no longer fits the {room} bytes reserved for it in the sparse extent.", Path);
            var padded = new byte[room];
            bytes.CopyTo(padded, 0);
            sparse.File.Write((long)sparse.Header.DescriptorOffset * Sector, padded);
            sparse.File.Flush();
        }
        else if (_descriptorFile is { } file)
        {
            // A new file renamed over the old one: a crash leaves the old descriptor or the new, never half of one.
            string temp = file + ".discemu-tmp";
            try
            {
                using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    stream.Write(bytes);
                    stream.Flush(flushToDisk: true);
                }
                File.Move(temp, file, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                throw new ImageAccessException($"Could not rewrite the descriptor: {e.Message}", file, e);
            }
        }
        else throw new UnsupportedFeatureException("This VMDK extent has no descriptor to record the change in.", Path);
        _descriptor = descriptor;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Rewrites parentFileNameHint and parentCID. The parent's CID is read from the new parent when it is
    /// a VMDK; for a parent of another format (which VMDK cannot name), or one that cannot be opened, a
    /// value is recorded that no check compares. The format is not stored: VMDK descriptors have no field
    /// for it, so the parent's format is always detected from its content.
    /// </remarks>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    /// <exception cref="UnsupportedFeatureException">The disk is an extent file without a descriptor.</exception>
    public void SetBackingFile(string? fileName, string? formatName)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!_writable) throw new NotSupportedException("The device is read-only.");
        if (fileName is { Length: 0 }) fileName = null;
        if (fileName is not null && (fileName.Contains('"') || fileName.Contains('\n') || fileName.Contains('\0')))
            throw new BadArgumentException("A VMDK parent file name cannot contain quotes, line breaks or NUL characters.", Path);
        uint parentCid = fileName is null ? NoParentCid : ReadParentCid(fileName, formatName);
        lock (_lock)
        {
            _cidUpdated = true;
            PersistDescriptor(_descriptor.WithParent(parentCid, fileName));
        }
    }

    /// <summary>The CID to record for parent <paramref name="fileName"/>: its own CID when it is a VMDK.</summary>
    private uint ReadParentCid(string fileName, string? formatName)
    {
        var (opened, cid) = ProbeParent(fileName, formatName);
        return !opened ? NoParentCid : cid ?? VmdkDescriptor.NewCid();
    }

    /// <summary>Opens a would-be parent: whether it opened, and its CID when it is a VMDK.</summary>
    private (bool Opened, uint? Cid) ProbeParent(string fileName, string? formatName)
    {
        try
        {
            using var parent = _opener.Open(ResolveRelative(Path, fileName), new ImageOpenOptions { Format = formatName, OpenBacking = false });
            return (true, parent is VmdkImage vmdk ? vmdk.Cid : null);
        }
        catch (DiscemuException)
        {
            return (false, null);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Every sparse extent drops its grains and is cut back to its metadata (flat extents always hold
    /// their data and are left as they are). The parent's CID is then recorded again: with no data of
    /// its own the disk shows exactly the parent as it is now (what <c>commit</c> needs after writing
    /// into the parent).
    /// </remarks>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    public void MakeEmpty()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!_writable) throw new NotSupportedException("The device is read-only.");
        EnsureCidUpdated();
        foreach (var e in _extents)
            if (e is SparseExtent sparse) sparse.MakeEmpty();
        string? hint = BackingFileName;
        if (hint is not null && HasDescriptor)
        {
            if (ProbeParent(hint, null).Cid is { } cid)
                lock (_lock)
                    if (cid != _descriptor.ParentCid) PersistDescriptor(_descriptor.WithParent(cid, hint));
        }
    }

    /// <summary>The descriptor bytes for a new image, checked to fit <paramref name="room"/> bytes.</summary>
    internal static byte[] DescriptorBytes(string text, long room, string path)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > room) throw new BadArgumentException($"The descriptor ({bytes.Length} bytes) does not fit the {room} bytes reserved for it.", path);
        return bytes;
    }
}
