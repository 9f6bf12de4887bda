using System.Text;
using Discemu.Block;
using Discemu.FileSystems;
using Discemu.FileSystems.Iso9660;
using Discemu.Formats;
using Discemu.Formats.Qcow2;
using Discemu.Util;

namespace Discemu.Fuzz;

/// <summary>One fuzz target: consumes an input and throws only for a real bug.</summary>
internal delegate void FuzzTarget(ReadOnlySpan<byte> data);

/// <summary>
/// The fuzz targets, one per parser. Typed Discemu errors are the expected answer to bad input and
/// are swallowed; any other exception (or a hang, or runaway memory) is a bug the fuzzer reports.
/// Shared by the fuzzing console app and the test suite's corpus replay.
/// </summary>
internal static class FuzzTargets
{
    /// <summary>Most virtual-disk bytes the image target reads per input.</summary>
    public const long ReadCap = 32L << 20;

    /// <summary>Most GetStatus calls the image target makes per input.</summary>
    public const int StatusCallCap = 100_000;

    /// <summary>The targets by name.</summary>
    public static IReadOnlyDictionary<string, FuzzTarget> All { get; } = new Dictionary<string, FuzzTarget>(StringComparer.Ordinal)
    {
        ["qcow2-header"] = Qcow2HeaderTarget,
        ["image"] = ImageTarget,
        ["options"] = OptionsTarget,
        ["probe"] = ProbeTarget,
        ["iso9660"] = Iso9660Target,
        ["rock-ridge"] = RockRidgeTarget,
        ["el-torito"] = ElToritoTarget,
        ["zisofs"] = ZisofsTarget,
    };

    /// <summary>Runs target <paramref name="name"/> on <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">No target has that name.</exception>
    public static void Run(string name, ReadOnlySpan<byte> data)
    {
        if (!All.TryGetValue(name, out var target))
            throw new ArgumentException($"Unknown target '{name}'. Targets: {string.Join(", ", All.Keys)}.", nameof(name));
        target(data);
    }

    /// <summary>
    /// Runs every file in <paramref name="dir"/> (sorted, recursively) through the target and reports
    /// each input that escapes with a non-Discemu exception. Returns the number of failing inputs.
    /// </summary>
    public static int Replay(string name, string dir, TextWriter log)
    {
        if (!All.TryGetValue(name, out var target)) throw new ArgumentException($"Unknown target '{name}'.", nameof(name));
        return Replay(target, name, dir, log);
    }

    /// <summary>Replays <paramref name="dir"/> through <paramref name="target"/>; see <see cref="Replay(string, string, TextWriter)"/>.</summary>
    public static int Replay(FuzzTarget target, string name, string dir, TextWriter log)
    {
        int failures = 0, count = 0;
        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            count++;
            try { target(File.ReadAllBytes(file)); }
            catch (DiscemuException) { } // the targets swallow these already; a hand-written one may not
            catch (Exception e)
            {
                failures++;
                log.WriteLine($"FAIL {file}: {e.GetType().FullName}: {e.Message}");
                log.WriteLine(e.StackTrace);
            }
        }
        log.WriteLine($"{name}: replayed {count} inputs from {dir}, {failures} failed.");
        return failures;
    }

    private static void Qcow2HeaderTarget(ReadOnlySpan<byte> data)
    {
        try
        {
            var header = Qcow2Header.Read(data, null);
            Qcow2HeaderExtension.ReadAll(data, header, null);
            // A header that parses must serialise back to the same header.
            var buffer = new byte[Math.Max(header.HeaderLength, Qcow2Constants.V3HeaderLength)];
            header.Write(buffer);
            var again = Qcow2Header.Read(buffer, null);
            if (again != header) throw new InvalidOperationException($"Header does not round-trip: {header} became {again}.");
        }
        catch (DiscemuException) { }
    }

    [ThreadStatic] private static string? t_imagePath;

    /// <summary>Deletes this thread's scratch file of the image target, if any.</summary>
    public static void DeleteScratchFile()
    {
        if (t_imagePath is not null) File.Delete(t_imagePath);
    }

    private static void ImageTarget(ReadOnlySpan<byte> data)
    {
        // One scratch file per thread, reused across inputs (fuzzers run millions of them).
        t_imagePath ??= Path.Combine(Path.GetTempPath(), $"discemu-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.img");
        File.WriteAllBytes(t_imagePath, data.ToArray());
        try
        {
            using var image = ImageOpener.Default.Open(t_imagePath);
            Exercise(image, ReadCap);
        }
        catch (DiscemuException) { }
    }

    /// <summary>
    /// Reads an opened image the way a converter would (status, then the data ranges), bounded by
    /// <paramref name="byteCap"/>, then checks it when it can be checked. Returns the bytes read.
    /// </summary>
    public static long Exercise(DiskImage image, long byteCap)
    {
        long read = 0;
        var buffer = new byte[1 << 20];
        long pos = 0;
        for (int calls = 0; pos < image.Length && calls < StatusCallCap && read < byteCap; calls++)
        {
            var st = image.GetStatus(pos, image.Length - pos);
            if (st.Length <= 0 || st.Length > image.Length - pos) throw new InvalidOperationException($"GetStatus returned {st.Length} bytes at {pos}.");
            if (!st.IsZero)
            {
                for (long off = pos; off < pos + st.Length && read < byteCap; off += buffer.Length)
                {
                    int n = (int)Math.Min(buffer.Length, Math.Min(pos + st.Length - off, byteCap - read));
                    image.Read(off, buffer.AsSpan(0, n));
                    read += n;
                }
            }
            pos += st.Length;
        }
        // Also read where status said nothing interesting: a lying status must not hide a crash.
        if (image.Length > 0)
        {
            int n = (int)Math.Min(image.Length, 65536);
            image.Read(0, buffer.AsSpan(0, n));
            image.Read(image.Length - n, buffer.AsSpan(0, n));
            image.Read(image.Length / 2 / 512 * 512, buffer.AsSpan(0, (int)Math.Min(n, image.Length - image.Length / 2 / 512 * 512)));
            read += 3L * n;
        }
        if (image is ICheckableImage checkable) checkable.Check(CheckRepair.None);
        if (image is ISnapshotImage snapshots)
        {
            foreach (var s in snapshots.Snapshots.Take(4))
            {
                using var snap = snapshots.OpenSnapshot(s.Id);
                if (snap.Length > 0) snap.Read(0, buffer.AsSpan(0, (int)Math.Min(snap.Length, 4096)));
            }
        }
        _ = image.FormatSpecific;
        return read;
    }

    private static void OptionsTarget(ReadOnlySpan<byte> data)
    {
        string text = Encoding.UTF8.GetString(data);
        try { SizeParser.Parse(text); }
        catch (BadArgumentException) { }
        try
        {
            var options = CreateOptions.Parse(text, text);
            foreach (var key in options.Keys.ToList())
            {
                try { options.GetSize(key, 0); } catch (BadArgumentException) { }
                try { options.GetBool(key, false); } catch (BadArgumentException) { }
                try { options.GetInt(key, 0); } catch (BadArgumentException) { }
                try { options.GetChoice(key, "a", "a", "b"); } catch (BadArgumentException) { }
            }
            options.ThrowOnUnused("fuzz");
        }
        catch (BadArgumentException) { }
    }

    private static void ProbeTarget(ReadOnlySpan<byte> data)
    {
        foreach (var format in FormatRegistry.Default.Formats)
        {
            int score = format.Probe(data, data.Length);
            if (score is < 0 or > 100) throw new InvalidOperationException($"{format.Name} probe scored {score}.");
            var trailer = data[Math.Max(0, data.Length - format.TrailerProbeLength)..];
            score = format.Probe(data, trailer, data.Length);
            if (score is < 0 or > 100) throw new InvalidOperationException($"{format.Name} trailer probe scored {score}.");
        }
        if (FormatRegistry.Default.Probe(data, data, data.Length, "input.bin") is null)
            throw new InvalidOperationException("No format claimed the input, but raw claims everything.");
    }

    /// <summary>Most directory entries <see cref="WalkFileSystem"/> visits.</summary>
    public const int EntryCap = 20_000;

    private static void Iso9660Target(ReadOnlySpan<byte> data)
    {
        using var device = new MemoryDevice(data);
        if (IsoFileSystemType.Instance.Probe(device) is < 0 or > 100) throw new InvalidOperationException("Probe out of range.");
        foreach (string? names in new[] { null, "iso", "joliet" })
        {
            try
            {
                using var fs = IsoFileSystemType.Instance.Open(device, new FileSystemOpenOptions { Names = names });
                WalkFileSystem(fs, ReadCap);
            }
            catch (DiscemuException) { }
        }
    }

    /// <summary>
    /// Walks a whole file system the way <c>get</c> would (every directory listed once, every file read up to
    /// <paramref name="byteCap"/> bytes in total, at most <see cref="EntryCap"/> entries). Returns the entries seen.
    /// </summary>
    public static int WalkFileSystem(FileSystem fs, long byteCap)
    {
        _ = fs.Info;
        _ = fs.Label;
        var seen = new HashSet<object>();
        var stack = new Stack<FileSystemEntry>([fs.Root]);
        var buffer = new byte[64 << 10];
        int entries = 0;
        long read = 0;
        while (stack.Count > 0 && entries < EntryCap)
        {
            var dir = stack.Pop();
            if (dir.Identity is { } id && !seen.Add(id)) continue;
            foreach (var e in fs.ListDirectory(dir))
            {
                if (++entries >= EntryCap) break;
                if (e.Name.Length == 0) throw new InvalidOperationException("An entry has an empty name.");
                if (e.IsDirectory) { stack.Push(e); continue; }
                if (e.Kind != FileSystemEntryKind.File) continue;
                try
                {
                    using var content = fs.OpenFile(e);
                    if (content.Length != e.Size) throw new InvalidOperationException($"'{e.Name}' opens as {content.Length} bytes, listed as {e.Size}.");
                    for (long pos = 0; pos < content.Length && read < byteCap;)
                    {
                        int n = (int)Math.Min(buffer.Length, content.Length - pos);
                        content.Read(pos, buffer.AsSpan(0, n));
                        pos += n;
                        read += n;
                    }
                    if (content.Length > 0) content.Read(content.Length - 1, buffer.AsSpan(0, 1));
                }
                catch (DiscemuException) { } // one damaged file must not hide the rest
            }
        }
        _ = fs.TryLookup("/a/b/../c");
        return entries;
    }

    private static void RockRidgeTarget(ReadOnlySpan<byte> data)
    {
        // The input is a System Use area; continuation areas are read from the same bytes as the device.
        using var device = new MemoryDevice(data);
        byte[] copy = data.ToArray();
        try
        {
            int skip = Susp.ReadSp(copy) ?? 0;
            var entries = Susp.ReadAll(copy, 0, 512, device.Length, (offset, length) =>
            {
                var area = new byte[length];
                device.Read(offset, area);
                return area;
            }, null);
            var rr = RockRidgeInfo.Parse(entries);
            if (rr.Name is { Length: 0 }) throw new InvalidOperationException("Empty Rock Ridge name.");
            Susp.ReadAll(copy, skip, 2048, device.Length, null, null);
        }
        catch (DiscemuException) { }
    }

    private static void ElToritoTarget(ReadOnlySpan<byte> data)
    {
        using var device = new MemoryDevice(data);
        try
        {
            foreach (var e in ElTorito.Parse(data, null))
            {
                long size = ElTorito.ImageSize(e, device, device.Length);
                if (size < 0) throw new InvalidOperationException($"Boot image {e.Index} has size {size}.");
                _ = e.PlatformName + e.MediaName;
            }
        }
        catch (DiscemuException) { }
    }

    private static void ZisofsTarget(ReadOnlySpan<byte> data)
    {
        // The input is a zisofs file; the ZF entry is taken from its own header so the parse goes deep.
        if (data.Length < ZisofsDevice.HeaderLength) return;
        var zf = new ZisofsInfo("pz", data[12], data[13], System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data[8..]));
        using var stored = new MemoryDevice(data);
        try
        {
            using var device = new ZisofsDevice(stored, zf, null);
            var buffer = new byte[64 << 10];
            for (long pos = 0; pos < device.Length && pos < (8L << 20); pos += buffer.Length)
                device.Read(pos, buffer.AsSpan(0, (int)Math.Min(buffer.Length, device.Length - pos)));
        }
        catch (DiscemuException) { }
    }
}
