using System.Text;
using Discemu.Block;
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
        ["ddrescue-mapfile"] = MapfileTarget,
        ["options"] = OptionsTarget,
        ["probe"] = ProbeTarget,
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

    private static void MapfileTarget(ReadOnlySpan<byte> data)
    {
        try
        {
            var state = Acquisition.Mapfile.Parse(Encoding.UTF8.GetString(data));
            // A mapfile that parses must format and parse back to the same blocks.
            var header = new Acquisition.MapfileHeader("fuzz", "0", "fuzz", DateTimeOffset.UnixEpoch);
            var again = Acquisition.Mapfile.Parse(Acquisition.Mapfile.Format(state, header, DateTimeOffset.UnixEpoch, "fuzz"));
            if (!again.Map.Blocks.SequenceEqual(state.Map.Blocks) || again.CurrentPosition != state.CurrentPosition || again.Phase != state.Phase || again.Pass != state.Pass)
                throw new InvalidOperationException("The mapfile does not round-trip.");
            long size = state.Map.Size;
            state.Map.JoinSubsectors(512);
            if (state.Map.Size != size) throw new InvalidOperationException("Joining subsectors changed the map's size.");
        }
        catch (DiscemuException) { }
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
}
