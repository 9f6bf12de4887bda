using Discemu.Util;
using Microsoft.Win32.SafeHandles;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660.Authoring;

internal sealed partial class IsoImageWriter
{
    private const int ReadChunk = 1 << 20;

    /// <summary>Streams every file's content to its extent through the sink's bounded buffer, depth first in record order.</summary>
    private void WriteFiles(CancellationToken cancel)
    {
        var infoTables = new Dictionary<uint, ResolvedBootEntry>();
        foreach (var b in boots) if (b.Entry.BootInfoTable && b.Media == BootMedia.NoEmulation) infoTables.TryAdd(b.Image.Extent, b);
        WriteFiles(layout.Root, infoTables, cancel);
    }

    /// <summary>
    /// The contents of <paramref name="dir"/>'s subtree. Each directory on the way down keeps its entries (read back
    /// from the spill file, compact) until its subtree is written: memory grows with the entries along one path.
    /// </summary>
    private void WriteFiles(IsoNode dir, Dictionary<uint, ResolvedBootEntry> infoTables, CancellationToken cancel)
    {
        var listing = layout.LaidOut(dir, withJoliet: false);
        var children = listing.Entries;
        foreach (int i in listing.Iso)
        {
            ref var f = ref children[i];
            if (f.IsDirectory)
            {
                WriteFiles(f.Node!, infoTables, cancel);
                continue;
            }
            if (f.Kind != IsoNodeKind.File || f.SharesContent) continue;
            cancel.ThrowIfCancellationRequested();
            _sink.SkipTo((long)f.Extent * SectorSize);
            if (f.Size == 0) continue;
            string path = children.HostPath(i)!;
            using var handle = Open(path);
            if (infoTables.ContainsKey(f.Extent)) WriteWithInfoTable(path, f.Size, f.Extent, handle);
            else Stream(path, f.Size, handle);
            _sink.Align(SectorSize);
        }
    }

    private static SafeFileHandle Open(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageAccessException($"Cannot read '{path}': {e.Message}", path, e);
        }
    }

    private void Stream(string path, long size, SafeFileHandle handle)
    {
        long start = _sink.Position;
        long offset = 0;
        while (offset < size)
        {
            if (size - offset > ReadChunk && OperatingSystem.IsLinux())
            {
                // Skip holes of sparse files: they read as zeros in the new image.
                long? data = LinuxNative.NextData(handle, offset);
                long next = data is null or < 0 ? size : Math.Min(data.Value, size);
                if (next - offset >= ReadChunk)
                {
                    offset = next / SectorSize * SectorSize;
                    _sink.SkipTo(start + offset);
                    continue;
                }
            }
            int want = (int)Math.Min(ReadChunk, size - offset);
            var span = _sink.GetSpan(want);
            int n = RandomAccess.Read(handle, span, offset);
            if (n <= 0) throw new ImageAccessException($"'{path}' shrank while it was written ({offset} of {size} bytes).", path);
            _sink.Advance(n);
            offset += n;
        }
    }

    private void WriteWithInfoTable(string path, long size, uint extent, SafeFileHandle handle)
    {
        var image = new byte[size];
        int read = 0;
        while (read < image.Length)
        {
            int n = RandomAccess.Read(handle, image.AsSpan(read), read);
            if (n <= 0) throw new ImageAccessException($"'{path}' shrank while it was written.", path);
            read += n;
        }
        IsoElToritoWriter.PatchInfoTable(image, extent);
        _sink.Write(image);
    }
}
