using System.Buffers.Binary;
using static Discemu.Formats.Vdi.VdiConstants;

namespace Discemu.Formats.Vdi;

public sealed partial class VdiImage
{
    private DiskImage? _backing;
    private string? _backingName;

    /// <inheritdoc/>
    public override DiskImage? Backing => _backing;

    /// <inheritdoc/>
    public override string? BackingFileName { get { lock (_lock) return _backingName; } }

    /// <inheritdoc/>
    public override string? BackingFormatName => _backingName is null ? null : "vdi";

    /// <summary>
    /// A differencing image records only its parent's UUID. The parent is the .vdi file whose image UUID it is,
    /// looked for in this image's folder, then in the folder above (VirtualBox keeps differencing images in a
    /// "Snapshots" folder under the machine's folder, next to the base disk) — or the file the caller names.
    /// </summary>
    /// <exception cref="ImageAccessException">No .vdi file there has the parent's UUID.</exception>
    private void FindParent(ImageOpenRequest request, string? explicitParent)
    {
        var link = _header.LinkUuid;
        if (explicitParent is not null) _backingName = explicitParent;
        else
        {
            string? found = FindByUuid(Path, link);
            if (found is not null) _backingName = RelativeName(Path, found);
        }
        if (!request.OpenBacking) return;
        if (_backingName is null)
            throw new ImageAccessException($"Could not find the parent of this differencing image: no .vdi file in '{SearchFolders(Path)[0]}'{(SearchFolders(Path).Count > 1 ? $" or '{SearchFolders(Path)[1]}'" : "")} has its UUID {link}.", Path);
        _backing = request.Opener.OpenBacking(request, _backingName, "vdi");
        if (_backing is VdiImage parent && parent.Header.ImageUuid != link && explicitParent is null)
        {
            _backing.Dispose();
            _backing = null;
            throw new CorruptImageException($"The parent '{_backingName}' does not have the UUID {link} this image links to.", Path);
        }
    }

    private static List<string> SearchFolders(string imagePath)
    {
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(imagePath)) ?? ".";
        var list = new List<string> { dir };
        if (System.IO.Path.GetDirectoryName(dir) is { } up) list.Add(up);
        return list;
    }

    /// <summary>The .vdi file in the searched folders whose image UUID is <paramref name="uuid"/>, or null.</summary>
    internal static string? FindByUuid(string imagePath, Guid uuid)
    {
        if (uuid == Guid.Empty) return null;
        string self = System.IO.Path.GetFullPath(imagePath);
        foreach (string dir in SearchFolders(imagePath))
        {
            IEnumerable<string> files;
            try { files = Directory.EnumerateFiles(dir, "*", SearchOption.TopDirectoryOnly).Where(f => f.EndsWith(".vdi", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            foreach (string file in files)
            {
                if (string.Equals(System.IO.Path.GetFullPath(file), self, StringComparison.Ordinal)) continue;
                if (ReadImageUuid(file) == uuid) return file;
            }
        }
        return null;
    }

    /// <summary>The image UUID of a VDI file, or null when it is not one.</summary>
    private static Guid? ReadImageUuid(string file)
    {
        try
        {
            using var fs = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var first = new byte[HeaderSector];
            if (fs.ReadAtLeast(first, first.Length, throwOnEndOfStream: false) < first.Length) return null;
            return VdiHeader.Read(first, file).ImageUuid;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DiscemuException) { return null; }
    }

    private static string RelativeName(string imagePath, string found)
    {
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(imagePath)) ?? ".";
        return System.IO.Path.GetRelativePath(dir, found);
    }

    /// <summary>
    /// Links the image to a new parent (making it differencing) or removes the link (making it dynamic). The
    /// parent must be a VDI image in a folder the parent search looks in: VDI stores its UUID, not its path.
    /// </summary>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    /// <exception cref="BadArgumentException">The parent is not a VDI image, or lies where it would not be found.</exception>
    public void SetBackingFile(string? fileName, string? formatName)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!CanWrite) throw new NotSupportedException("The device is read-only.");
        lock (_lock)
        {
            if (string.IsNullOrEmpty(fileName))
            {
                // The type first: a dynamic image ignores the link UUIDs.
                WriteType(_header.ImageType == TypeDiff ? TypeNormal : _header.ImageType);
                WriteLink(Guid.Empty, Guid.Empty);
                _backingName = null;
            }
            else
            {
                var parent = ParentHeader(Path, fileName);
                WriteLink(parent.ImageUuid, parent.ModifyUuid);
                WriteType(TypeDiff);
                _backingName = fileName;
            }
            File.Flush();
        }
    }

    /// <summary>The header of the parent named <paramref name="fileName"/>, checked to be findable from <paramref name="childPath"/>.</summary>
    /// <exception cref="BadArgumentException">Not a VDI image, or in a folder the parent search does not look in.</exception>
    internal static VdiHeader ParentHeader(string childPath, string fileName)
    {
        string resolved = ResolveRelative(childPath, fileName);
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(resolved));
        if (dir is null || !SearchFolders(childPath).Contains(dir, StringComparer.Ordinal))
            throw new BadArgumentException($"A VDI image records its parent's UUID, not its path: the parent '{fileName}' must be in the image's folder or the folder above it.", childPath);
        try
        {
            using var fs = new FileStream(resolved, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var first = new byte[HeaderSector];
            fs.ReadAtLeast(first, first.Length, throwOnEndOfStream: false);
            return VdiHeader.Read(first, resolved);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DiscemuException)
        {
            throw new BadArgumentException($"The parent of a VDI differencing image must be a VDI image: '{fileName}': {e.Message}", childPath, e);
        }
    }

    private void WriteType(uint type)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, type);
        File.Write(VdiHeader.TypeOffset, b);
        _header = _header with { ImageType = type };
    }

    private void WriteLink(Guid link, Guid parentModify)
    {
        Span<byte> b = stackalloc byte[32];
        link.TryWriteBytes(b);
        parentModify.TryWriteBytes(b[16..]);
        File.Write(VdiHeader.LinkUuidOffset, b);
        _header = _header with { LinkUuid = link, ParentModifyUuid = parentModify };
    }
}
