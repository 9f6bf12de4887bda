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
    /// from the spill file) until its subtree is written: memory grows with the entries along one path.
    /// </summary>
    private void WriteFiles(IsoNode dir, Dictionary<uint, ResolvedBootEntry> infoTables, CancellationToken cancel)
    {
        var children = layout.LaidOut(dir);
        for (int i = 0; i < children.Count; i++)
        {
            var f = children[i];
            children[i] = null!; // written: let it go before descending further
            if (f.IsDirectory)
            {
                WriteFiles(f, infoTables, cancel);
                continue;
            }
            if (f.Kind != IsoNodeKind.File || f.SharesContent) continue;
            cancel.ThrowIfCancellationRequested();
            _sink.SkipTo((long)f.Extent * SectorSize);
            if (f.Size == 0) continue;
            using var handle = Open(f);
            if (infoTables.ContainsKey(f.Extent)) WriteWithInfoTable(f, handle);
            else Stream(f, handle);
            _sink.Align(SectorSize);
        }
    }

    private static SafeFileHandle Open(IsoNode f)
    {
        try
        {
            return File.OpenHandle(f.HostPath!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageAccessException($"Cannot read '{f.HostPath}': {e.Message}", f.HostPath, e);
        }
    }

    private void Stream(IsoNode f, SafeFileHandle handle)
    {
        long start = _sink.Position;
        long offset = 0;
        while (offset < f.Size)
        {
            if (f.Size - offset > ReadChunk && OperatingSystem.IsLinux())
            {
                // Skip holes of sparse files: they read as zeros in the new image.
                long? data = LinuxNative.NextData(handle, offset);
                long next = data is null or < 0 ? f.Size : Math.Min(data.Value, f.Size);
                if (next - offset >= ReadChunk)
                {
                    offset = next / SectorSize * SectorSize;
                    _sink.SkipTo(start + offset);
                    continue;
                }
            }
            int want = (int)Math.Min(ReadChunk, f.Size - offset);
            var span = _sink.GetSpan(want);
            int n = RandomAccess.Read(handle, span, offset);
            if (n <= 0) throw new ImageAccessException($"'{f.HostPath}' shrank while it was written ({offset} of {f.Size} bytes).", f.HostPath);
            _sink.Advance(n);
            offset += n;
        }
    }

    private void WriteWithInfoTable(IsoNode f, SafeFileHandle handle)
    {
        var image = new byte[f.Size];
        int read = 0;
        while (read < image.Length)
        {
            int n = RandomAccess.Read(handle, image.AsSpan(read), read);
            if (n <= 0) throw new ImageAccessException($"'{f.HostPath}' shrank while it was written.", f.HostPath);
            read += n;
        }
        IsoElToritoWriter.PatchInfoTable(image, f.Extent);
        _sink.Write(image);
    }
}
