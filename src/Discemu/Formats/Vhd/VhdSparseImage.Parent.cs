using static Discemu.Formats.Vhd.VhdConstants;

namespace Discemu.Formats.Vhd;

public sealed partial class VhdSparseImage
{
    private List<VhdParentPaths.Candidate> _candidates = [];
    private DiskImage? _backing;
    private string? _backingName;

    /// <inheritdoc/>
    public override DiskImage? Backing => _backing;

    /// <inheritdoc/>
    public override string? BackingFileName { get { lock (_lock) return _backingName; } }

    /// <summary>
    /// Collects where the parent may be, in order: the W2ru locator (relative to this file), the parent name
    /// in the header, MacX (a file URL), then W2ku and the deprecated Wi2r/Wi2k. The first that exists is the
    /// backing file; when none exists, opening fails naming the first (and the others).
    /// </summary>
    private void FindParent(ImageOpenRequest request)
    {
        _candidates = Candidates(_header);
        if (_candidates.Count == 0)
        {
            if (request.OpenBacking)
                throw new CorruptImageException("The differencing VHD names no parent (no parent locator and no parent name).", Path);
            return;
        }
        int found = _candidates.FindIndex(c => Exists(c.Path));
        _backingName = _candidates[Math.Max(found, 0)].Path;
        if (!request.OpenBacking) return;
        try
        {
            _backing = request.Opener.OpenBacking(request, _backingName, null);
        }
        catch (ImageAccessException e) when (found < 0 && _candidates.Count > 1)
        {
            string others = string.Join(", ", _candidates.Skip(1).Select(c => $"'{c.Path}' ({c.Source})"));
            throw new ImageAccessException($"{e.Message} Also looked for {others}.", Path, e);
        }
        CheckParentIdentity();
    }

    private bool Exists(string stored)
    {
        try
        {
            return System.IO.File.Exists(ResolveRelative(Path, stored));
        }
        catch (ArgumentException) { return false; }
    }

    /// <summary>The parent must be the disk this one was made from: a VHD parent's unique id is compared with the one stored here.</summary>
    private void CheckParentIdentity()
    {
        var expected = _header.ParentUniqueId;
        if (expected == Guid.Empty || _backing is not IVhdImage parent) return;
        var actual = parent.Footer.UniqueId;
        if (actual == expected) return;
        string parentPath = _backing.Path;
        _backing.Dispose();
        _backing = null;
        throw new CorruptImageException($"The parent '{parentPath}' has unique id {actual}, but this differencing disk was made from {expected}: it was replaced or changed (rebase -u relinks the disk to it).", Path);
    }

    private List<VhdParentPaths.Candidate> Candidates(VhdDynamicHeader h)
    {
        var list = new List<VhdParentPaths.Candidate>();
        void Add(string? stored, string source)
        {
            if (string.IsNullOrWhiteSpace(stored)) return;
            string hostPath = VhdParentPaths.IsWindowsAbsolute(stored) ? stored : VhdParentPaths.ToHostPath(stored);
            if (hostPath.Length > 0 && !list.Exists(c => c.Path == hostPath)) list.Add(new(hostPath, source));
        }
        uint[] order = [PlatformW2ru, 0, PlatformMacX, PlatformW2ku, PlatformWi2r, PlatformWi2k];
        foreach (uint code in order)
        {
            if (code == 0)
            {
                Add(h.ParentName, "parent name");
                continue;
            }
            foreach (var l in h.Locators)
                if (l.PlatformCode == code) Add(ReadLocator(l), VhdConstants.FourCC(code));
        }
        return list;
    }

    private string? ReadLocator(VhdParentLocator l)
    {
        if (l.DataLength == 0 || l.DataLength > MaxLocatorLength || l.DataOffset < 0 || l.DataOffset > File.Length - l.DataLength) return null;
        var data = new byte[l.DataLength];
        File.Read(l.DataOffset, data);
        return VhdParentPaths.Decode(l.PlatformCode, data);
    }

    /// <summary>
    /// Points the disk at a new parent (making a dynamic disk differencing), or removes the parent (making it
    /// dynamic). The name is stored as given in the header's parent name; a W2ru locator (relative Windows path)
    /// and a MacX (file URL) or W2ku (Windows) locator with the absolute path are written at the end of the file.
    /// A VHD parent's unique id is recorded. No data is copied.
    /// </summary>
    /// <exception cref="NotSupportedException">The image is read-only.</exception>
    public void SetBackingFile(string? fileName, string? formatName)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (!CanWrite) throw new NotSupportedException("The device is read-only.");
        lock (_lock)
        {
            WriteDirtyBitmaps();
            if (string.IsNullOrEmpty(fileName))
            {
                // Footer first: a dynamic disk ignores the parent fields the header still holds until it is rewritten.
                WriteFooters(_footer with { DiskType = DiskTypeDynamic });
                WriteHeader(_header with { ParentUniqueId = Guid.Empty, ParentTimeStamp = 0, ParentName = "", Locators = new VhdParentLocator[LocatorCount] });
                _backingName = null;
                _candidates = [];
            }
            else
            {
                var (id, stamp) = ParentIdentity(ResolveRelative(Path, fileName));
                var locators = WriteLocators(Path, fileName);
                // Header first: until the footer says "differencing", the disk stays dynamic.
                WriteHeader(_header with { ParentUniqueId = id, ParentTimeStamp = stamp, ParentName = StoredParentName(fileName), Locators = locators });
                if (_footer.DiskType != DiskTypeDifferencing) WriteFooters(_footer with { DiskType = DiskTypeDifferencing });
                _candidates = Candidates(_header);
                _backingName = VhdParentPaths.ToHostPath(fileName);
            }
            File.Flush();
        }
    }

    private void WriteHeader(VhdDynamicHeader header)
    {
        File.Write(_headerOffset, header.ToBytes());
        _header = header;
    }

    /// <summary>The parent name field holds 256 UTF-16 units: a longer name is cut to its file name (the locators hold the paths).</summary>
    internal static string StoredParentName(string fileName)
        => fileName.Length <= ParentNameBytes / 2 ? fileName : System.IO.Path.GetFileName(fileName)[..Math.Min(ParentNameBytes / 2, System.IO.Path.GetFileName(fileName).Length)];

    /// <summary>The unique id and time stamp to record for a parent: a VHD's own id and footer time stamp; otherwise none and the file's modification time.</summary>
    internal static (Guid Id, uint Stamp) ParentIdentity(string resolvedPath)
    {
        if (!System.IO.File.Exists(resolvedPath)) return (Guid.Empty, 0);
        uint stamp = (uint)Math.Clamp((System.IO.File.GetLastWriteTimeUtc(resolvedPath) - Epoch.UtcDateTime).TotalSeconds, 0, uint.MaxValue);
        try
        {
            using var file = Block.FileDevice.Open(resolvedPath, writable: false);
            return (VhdFooterPair.Read(file, resolvedPath).Footer.UniqueId, stamp);
        }
        catch (DiscemuException)
        {
            return (Guid.Empty, stamp);
        }
    }

    /// <summary>The locator data for a parent named <paramref name="fileName"/> (as stored, relative to <paramref name="childPath"/>).</summary>
    internal static List<(uint Code, byte[] Data)> LocatorData(string childPath, string fileName)
    {
        string full = System.IO.Path.GetFullPath(ResolveRelative(childPath, fileName));
        var list = new List<(uint, byte[])> { (PlatformW2ru, VhdParentPaths.EncodeWindows(VhdParentPaths.RelativeWindowsPath(childPath, full))) };
        if (OperatingSystem.IsWindows()) list.Add((PlatformW2ku, VhdParentPaths.EncodeWindows(full)));
        else list.Add((PlatformMacX, VhdParentPaths.EncodeFileUrl(full)));
        return list;
    }

    /// <summary>Appends the locator data at the end of the file (moving the footer) and returns the entries. Caller holds the lock.</summary>
    private VhdParentLocator[] WriteLocators(string childPath, string fileName)
    {
        var data = LocatorData(childPath, fileName);
        var entries = new VhdParentLocator[LocatorCount];
        for (int i = 0; i < data.Count; i++)
        {
            var (code, bytes) = data[i];
            var area = new byte[RoundUp(Math.Max(bytes.Length, 1))];
            bytes.CopyTo(area, 0);
            long space = area.Length;
            long at = Reserve(space, forBlock: false);
            File.Write(at, area);
            entries[i] = new VhdParentLocator(code, (uint)space, (uint)bytes.Length, at);
        }
        WriteTailFooter();
        return entries;
    }
}
