using System.Text;
using Discemu.Block;
using Discemu.FileSystems;
using Discemu.FileSystems.Iso9660;
using Discemu.Formats.Vdi;
using Discemu.Formats.Vhd;
using Discemu.Formats;
using Discemu.Formats.Dmg;
using Discemu.Formats.Cue;
using Discemu.Partitions;
using Discemu.Formats.Qcow2;
using Discemu.Formats.Vhdx;
using Discemu.Formats.Vmdk;
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
        ["vhd-footer"] = VhdFooterTarget,
        ["vhd"] = VhdHeaderTarget,
        ["vdi"] = VdiHeaderTarget,
        ["iso9660"] = Iso9660Target,
        ["fat"] = FatTarget,
        ["rock-ridge"] = RockRidgeTarget,
        ["el-torito"] = ElToritoTarget,
        ["zisofs"] = ZisofsTarget,
        ["udf"] = UdfTarget,
        ["qcow2-header"] = Qcow2HeaderTarget,
        ["mbr"] = data => PartitionTarget(data, Partitions.Mbr.MbrFormat.Instance),
        ["gpt"] = data => PartitionTarget(data, Partitions.Gpt.GptFormat.Instance),
        ["vhdx-metadata"] = VhdxMetadataTarget,
        ["vhdx-log"] = VhdxLogTarget,
        ["image"] = ImageTarget,
        ["ddrescue-mapfile"] = MapfileTarget,
        ["options"] = OptionsTarget,
        ["probe"] = ProbeTarget,
        ["dmg"] = DmgTarget,
        ["dmg-plist"] = DmgPlistTarget,
        ["adc"] = AdcTarget,
        ["lzfse"] = LzfseTarget,
        ["lzvn"] = LzvnTarget,
        ["vmdk-descriptor"] = VmdkDescriptorTarget,
        ["vmdk-sparse-header"] = VmdkSparseHeaderTarget,
        ["vmdk-stream-markers"] = VmdkStreamMarkersTarget,
        ["ewf"] = EwfImageTarget,
        ["ewf-header"] = EwfHeaderTarget,
        ["fat-check"] = FatCheckTarget,
        ["ewf2"] = Ewf2ImageTarget,
        ["cue-sheet"] = CueSheetTarget,
        ["nbd-messages"] = NbdMessagesTarget,
    };

    /// <summary>The NBD server's wire parsers (request, option header, INFO/GO and meta-context payloads); parsed structs must round-trip.</summary>
    private static void NbdMessagesTarget(ReadOnlySpan<byte> data)
    {
        if (Nbd.NbdRequest.TryRead(data, out var request))
        {
            var again = new byte[Nbd.NbdConstants.RequestSize];
            request.Write(again);
            if (!again.AsSpan().SequenceEqual(data[..again.Length])) throw new InvalidOperationException("NBD request does not round-trip.");
        }
        if (Nbd.NbdOptionHeader.TryRead(data, out var header))
        {
            var again = new byte[Nbd.NbdOptionHeader.Size];
            header.Write(again);
            if (!again.AsSpan().SequenceEqual(data[..again.Length])) throw new InvalidOperationException("NBD option header does not round-trip.");
        }
        if (Nbd.NbdInfoRequest.TryRead(data, out var info) && info.InfoTypes.Length * 2 + 6 > data.Length)
            throw new InvalidOperationException("INFO request claims more than it holds.");
        if (Nbd.NbdMetaContextRequest.TryRead(data, out var meta) && meta.Queries.Length > Nbd.NbdMetaContextRequest.MaxQueries)
            throw new InvalidOperationException("Meta context request exceeds the query limit.");
    }

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

    /// <summary>VHDX header, region table, metadata table and items, parent locator: each parsed from the input.</summary>
    private static void VhdxMetadataTarget(ReadOnlySpan<byte> data)
    {
        var padded = new byte[Math.Max(data.Length, 1 << 17)];
        data.CopyTo(padded);
        if (VhdxHeader.TryRead(padded, out var header, out _))
        {
            try { header.Validate(1L << 40, null); } catch (DiscemuException) { }
            var buffer = new byte[VhdxConstants.HeaderSize];
            header.Write(buffer);
            if (!VhdxHeader.TryRead(buffer, out var again, out _) || again != header) throw new InvalidOperationException("A VHDX header does not round-trip.");
        }
        if (VhdxRegionTable.TryRead(padded, out var table, out _))
        {
            var bytes = table!.ToBytes();
            if (!VhdxRegionTable.TryRead(bytes, out var again, out _) || !again!.Regions.SequenceEqual(table.Regions)) throw new InvalidOperationException("A region table does not round-trip.");
        }
        try
        {
            long used = VhdxMetadata.UsedLength(padded, padded.Length, null);
            if (used <= padded.Length)
            {
                var metadata = VhdxMetadata.Read(padded, padded.Length, null);
                var rebuilt = metadata.ToBytes(1 << 20);
                var reread = VhdxMetadata.Read(rebuilt, 1 << 20, null);
                if (reread.VirtualSize != metadata.VirtualSize || reread.BlockSize != metadata.BlockSize || reread.HasParent != metadata.HasParent)
                    throw new InvalidOperationException("VHDX metadata does not round-trip.");
            }
        }
        catch (DiscemuException) { }
        try { VhdxParentLocator.Read(data, null); } catch (DiscemuException) { }
    }

    /// <summary>The input is a VHDX log region; the log GUID is taken from the first sector that starts with "loge". Finds and checks the active sequence.</summary>
    private static void VhdxLogTarget(ReadOnlySpan<byte> data)
    {
        int length = (int)Math.Min(VhdxConstants.MiB, (data.Length + VhdxConstants.LogSectorSize - 1) / VhdxConstants.LogSectorSize * VhdxConstants.LogSectorSize);
        var log = new byte[Math.Max(length, VhdxConstants.LogSectorSize)];
        data[..Math.Min(data.Length, log.Length)].CopyTo(log);
        var guid = Guid.Empty;
        for (int s = 0; s < log.Length; s += VhdxConstants.LogSectorSize)
        {
            if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(log.AsSpan(s)) != VhdxConstants.LogEntrySignature) continue;
            guid = new Guid(log.AsSpan(s + 32, 16));
            break;
        }
        var sequence = VhdxLog.FindActiveSequence(log, guid);
        ulong previous = 0;
        foreach (var entry in sequence)
        {
            if (previous != 0 && entry.Sequence != previous + 1) throw new InvalidOperationException("The active sequence is not consecutive.");
            previous = entry.Sequence;
            foreach (var w in entry.Writes)
                if (w.FileOffset % VhdxConstants.LogSectorSize != 0 || (w.Data is { } d && d.Length != VhdxConstants.LogSectorSize))
                    throw new InvalidOperationException("A replayed write is misaligned.");
        }
    }

    [ThreadStatic] private static string? t_imagePath;
    [ThreadStatic] private static string? t_ewfPath, t_ewf2Path;

    /// <summary>Deletes this thread's scratch file of the image target, if any.</summary>
    public static void DeleteScratchFile()
    {
        if (t_imagePath is not null) File.Delete(t_imagePath);
        if (t_dmgPath is not null) File.Delete(t_dmgPath);
        if (t_ewfPath is not null) File.Delete(t_ewfPath);
        if (t_ewf2Path is not null) File.Delete(t_ewf2Path);
    }

    /// <summary>Opens the input as the first segment of an EWF set (E01 name) and reads it.</summary>
    private static void EwfImageTarget(ReadOnlySpan<byte> data)
    {
        t_ewfPath ??= Path.Combine(Path.GetTempPath(), $"discemu-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}-ewf.E01");
        OpenEwf(t_ewfPath, data);
    }

    /// <summary>Opens the input as the first segment of an EWF2 set (Ex01 name) and reads it.</summary>
    private static void Ewf2ImageTarget(ReadOnlySpan<byte> data)
    {
        t_ewf2Path ??= Path.Combine(Path.GetTempPath(), $"discemu-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}-ewf2.Ex01");
        OpenEwf(t_ewf2Path, data);
    }

    private static void OpenEwf(string path, ReadOnlySpan<byte> data)
    {
        File.WriteAllBytes(path, data.ToArray());
        try
        {
            using var image = Discemu.Formats.Ewf.EwfImage.Open(path);
            Exercise(image, ReadCap);
        }
        catch (DiscemuException) { }
    }

    /// <summary>The header, header2, xheader and EWF2 object text parsers: they never throw.</summary>
    private static void EwfHeaderTarget(ReadOnlySpan<byte> data)
    {
        string text = Discemu.Formats.Ewf.EwfHeaderText.Decode(data);
        var tags = Discemu.Formats.Ewf.EwfHeaderText.ParseMain(text);
        var ewf2 = Discemu.Formats.Ewf.EwfHeaderText.ParseMain(text, ewf2Escapes: true);
        var xml = Discemu.Formats.Ewf.EwfHeaderText.ParseXml(text);
        var info = Discemu.Formats.Ewf.EwfCaseInfo.FromTags(tags).FillFrom(Discemu.Formats.Ewf.EwfCaseInfo.FromTags(ewf2))
            .FillFrom(Discemu.Formats.Ewf.EwfCaseInfo.FromTags(Discemu.Formats.Ewf.EwfHeaderText.XmlToTags(xml)));
        // What the writer builds from parsed values must parse back to the same case fields.
        var built = Discemu.Formats.Ewf.EwfHeaderText.Decode(Discemu.Formats.Ewf.EwfHeaderText.BuildHeader2(info, DateTimeOffset.UnixEpoch));
        var again = Discemu.Formats.Ewf.EwfCaseInfo.FromTags(Discemu.Formats.Ewf.EwfHeaderText.ParseMain(built));
        static string? Clean(string? s) => s is null ? null : s.Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ').Trim() is { Length: > 0 } c ? c : null;
        if (again.CaseNumber != Clean(info.CaseNumber) || again.ExaminerName != Clean(info.ExaminerName) || again.Notes != Clean(info.Notes))
            throw new InvalidOperationException("EWF header2 text does not round-trip.");
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

    [ThreadStatic] private static string? t_dmgPath;

    private static void DmgTarget(ReadOnlySpan<byte> data)
    {
        // Like the image target, but always through the DMG driver (whatever the trailer says).
        t_dmgPath ??= Path.Combine(Path.GetTempPath(), $"discemu-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.dmg");
        File.WriteAllBytes(t_dmgPath, data.ToArray());
        try
        {
            using var image = ImageOpener.Default.Open(t_dmgPath, new ImageOpenOptions { Format = "dmg" });
            Exercise(image, ReadCap);
        }
        catch (DiscemuException) { }
    }

    private static void DmgPlistTarget(ReadOnlySpan<byte> data)
    {
        try
        {
            foreach (var r in DmgPlist.ReadResources(data.ToArray(), null))
                if (r.Type == "blkx") DmgBlockTable.Read(r.Data, r.Name, null);
        }
        catch (DiscemuException) { }
        try { DmgResourceFork.Read(data, null); }
        catch (DiscemuException) { }
    }

    /// <summary>Codec inputs: the output length (16-bit little-endian), then the compressed stream.</summary>
    private static (byte[] Output, byte[] Input) SplitCodecInput(ReadOnlySpan<byte> data)
        => data.Length < 2 ? ([], []) : (new byte[data[0] | data[1] << 8], data[2..].ToArray());

    private static void AdcTarget(ReadOnlySpan<byte> data)
    {
        var (output, input) = SplitCodecInput(data);
        try { AdcDecoder.Decode(input, output); }
        catch (CorruptImageException) { }
    }

    private static void LzfseTarget(ReadOnlySpan<byte> data)
    {
        var (output, input) = SplitCodecInput(data);
        try
        {
            int n = LzfseDecoder.Decode(input, output);
            if (n < 0 || n > output.Length) throw new InvalidOperationException($"LZFSE produced {n} bytes into {output.Length}.");
        }
        catch (CorruptImageException) { }
    }

    private static void LzvnTarget(ReadOnlySpan<byte> data)
    {
        var (output, input) = SplitCodecInput(data);
        try
        {
            int n = LzvnDecoder.Decode(input, output, 0);
            if (n < 0 || n > output.Length) throw new InvalidOperationException($"LZVN produced {n} bytes into {output.Length}.");
        }
        catch (CorruptImageException) { }
    }

    /// <summary>The input is a whole disk: probe it, read its table with <paramref name="format"/>, then exercise the table.</summary>
    private static void PartitionTarget(ReadOnlySpan<byte> data, PartitionTableFormat format)
    {
        using var disk = new MemoryDevice(data);
        int score = format.Probe(data[..Math.Min(data.Length, PartitionTableRegistry.HeadLength)], data[Math.Max(0, data.Length - PartitionTableRegistry.TailLength)..], data.Length);
        if (score is < 0 or > 100) throw new InvalidOperationException($"{format.Name} probe scored {score}.");
        try
        {
            ExercisePartitionTable(format.Open(disk));
        }
        catch (DiscemuException) { }
    }

    /// <summary>
    /// Reads everything a table offers (partitions, their first bytes, the check), then edits it (remove one, add one,
    /// repair) and reads it back: bad input may only end in a typed Discemu error. Returns the partitions seen first.
    /// </summary>
    public static int ExercisePartitionTable(PartitionTable table)
    {
        var parts = table.Partitions;
        _ = (table.DiskId, table.Warnings, table.UsableStart, table.UsableEnd, table.FreeSpace());
        var buffer = new byte[4096];
        foreach (var p in parts.Take(64))
        {
            _ = (p.Type.Name, p.Flags, p.End);
            try
            {
                using var device = table.Open(p.Number);
                device.Read(0, buffer.AsSpan(0, (int)Math.Min(buffer.Length, device.Length)));
            }
            catch (DiscemuException) { }
        }
        table.Check(CheckRepair.None);
        bool gpt = table.Format.Name == "gpt";
        try { if (parts.Count > 0) table.Remove(parts[^1].Number); } catch (DiscemuException) { }
        try
        {
            table.Add(new PartitionSpec { Type = PartitionTypes.Parse("linux", gpt), Length = 8L * table.SectorSize, Name = gpt ? "fuzz" : null });
        }
        catch (DiscemuException) { }
        try { table.Add(new PartitionSpec { Type = PartitionTypes.Parse("swap", gpt), Logical = !gpt }); } catch (DiscemuException) { }
        table.Check(CheckRepair.All);
        table.Format.Open(table.Device).Check(CheckRepair.None);
        return parts.Count;
    }

    /// <summary>The FAT checker (mkfs fat / check) on a volume image: findings or typed errors only.</summary>
    private static void FatCheckTarget(ReadOnlySpan<byte> data)
    {
        using var device = new MemoryDevice(data);
        FileSystems.Fat.FatChecker.Check(device);
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

    /// <summary>
    /// CUE sheet text: parse it, lay it out against files of a few sizes, and check what any laid-out disc must
    /// satisfy (tracks in disc order, indexes ascending, data inside its file). Also probes it as a format.
    /// </summary>
    private static void CueSheetTarget(ReadOnlySpan<byte> data)
    {
        _ = CueFormat.Instance.Probe(data, data.Length);
        CueSheet sheet;
        try { sheet = CueSheet.Parse(data, null); }
        catch (DiscemuException) { return; }
        foreach (long unit in new long[] { 0, 2352, 2352L * 75 * 61 })
        {
            long extra = data.Length;
            var lengths = sheet.Files.Select((_, i) => unit * (i + 1) + extra).ToList();
            IReadOnlyList<CueTrack> tracks;
            try { tracks = sheet.Layout(lengths, null); }
            catch (CorruptImageException) { continue; }
            if (tracks.Count != sheet.TrackCount) throw new InvalidOperationException("The layout lost tracks.");
            long previousEnd = long.MinValue;
            foreach (var t in tracks)
            {
                if (t.Length < 0 || t.Start < previousEnd) throw new InvalidOperationException($"Track {t.Number} at {t.Start} (+{t.Length}) overlaps the previous track (ends {previousEnd}).");
                if (t.FileOffset < 0 || t.FileOffset + t.Length * t.SectorSize > lengths[t.FileIndex]) throw new InvalidOperationException($"Track {t.Number} lies outside its file.");
                for (int i = 1; i < t.Indexes.Count; i++)
                    if (t.Indexes[i].Lba < t.Indexes[i - 1].Lba) throw new InvalidOperationException($"Track {t.Number}'s indexes go backwards.");
                if (t.Indexes.Single(x => x.Number == 1).Lba != t.Start) throw new InvalidOperationException($"Track {t.Number}'s INDEX 01 is not its start.");
                previousEnd = t.Start + t.Length;
            }
        }
    }

    private static void VmdkDescriptorTarget(ReadOnlySpan<byte> data)
    {
        try
        {
            var d = VmdkDescriptor.Parse(data, null);
            // A descriptor that parses must read back the same from its own text, and survive the rewrites of the write path.
            var again = VmdkDescriptor.Parse(d.ToBytes(), null);
            if (again.Cid != d.Cid || again.ParentCid != d.ParentCid || again.CreateType != d.CreateType
                || again.ParentFileNameHint != d.ParentFileNameHint || !again.Extents.SequenceEqual(d.Extents))
                throw new InvalidOperationException("VMDK descriptor does not round-trip through its text.");
            var changed = d.WithCid(0x12345678).WithParent(0x9abcdef0, "parent.vmdk");
            if (changed.Cid != 0x12345678 || changed.ParentCid != 0x9abcdef0 || changed.ParentFileNameHint != "parent.vmdk" || !changed.Extents.SequenceEqual(d.Extents))
                throw new InvalidOperationException("VMDK descriptor rewrite lost or changed a value.");
            if (changed.WithParent(0xFFFFFFFF, null).ParentFileNameHint is not null) throw new InvalidOperationException("VMDK parent was not removed.");
            foreach (var e in d.Extents)
            {
                var line = VmdkDescriptor.Parse(Encoding.UTF8.GetBytes($"createType=\"x\"\n{e.Format()}\n"), null).Extents[0];
                if (line != e) throw new InvalidOperationException($"VMDK extent line '{e.Format()}' does not round-trip.");
            }
        }
        catch (DiscemuException) { }
    }

    private static void VmdkSparseHeaderTarget(ReadOnlySpan<byte> data)
    {
        try
        {
            var h = SparseExtentHeader.Read(data, null);
            var buffer = new byte[SparseExtentHeader.Size];
            h.Write(buffer);
            var again = SparseExtentHeader.Read(buffer, null);
            if (again != h) throw new InvalidOperationException($"VMDK header does not round-trip: {h} became {again}.");
            if (h.GdEntries < 0 || h.GdBytes < 0 || h.GtBytes <= 0 || h.GtCoverage <= 0) throw new InvalidOperationException($"VMDK header geometry overflowed: {h}.");
        }
        catch (DiscemuException) { }
    }

    private static void VmdkStreamMarkersTarget(ReadOnlySpan<byte> data)
    {
        // Walks a stream-optimized body marker by marker, inflating every grain, as a reader scanning a stream does.
        var grain = new byte[64 * 1024];
        long pos = 0;
        for (int steps = 0; pos <= data.Length - 16 && steps < 100_000; steps++)
        {
            try
            {
                var marker = VmdkMarker.Read(data[(int)pos..], null);
                if (marker.IsGrain)
                {
                    if (marker.Size > data.Length - pos - 12) break;
                    VmdkCompression.Inflate(data.Slice((int)pos + 12, (int)marker.Size), grain, null);
                    pos += VmdkMarker.GrainSectors(marker.Size) * 512;
                    continue;
                }
                if (marker.Type == 0 || marker.Value > (ulong)data.Length) break;
                pos += 512 + (long)marker.Value * 512;
            }
            catch (DiscemuException)
            {
                pos += 512;
            }
        }
    }

    /// <summary>Most directory entries <see cref="WalkFileSystem"/> visits.</summary>
    public const int EntryCap = 20_000;

    /// <summary>
    /// FAT: probe, open read-only and walk; then open a writable copy and edit it (create, write, rename, delete,
    /// label), each step allowed to fail only with a typed error, and walk the result.
    /// </summary>
    private static void FatTarget(ReadOnlySpan<byte> data)
    {
        using var device = new MemoryDevice(data);
        if (Discemu.FileSystems.Fat.FatFileSystemType.Instance.Probe(device) is < 0 or > 100) throw new InvalidOperationException("Probe out of range.");
        try
        {
            using var fs = Discemu.FileSystems.Fat.FatFileSystemType.Instance.Open(device, new FileSystemOpenOptions());
            WalkFileSystem(fs, ReadCap);
        }
        catch (DiscemuException) { return; }
        try
        {
            using var fs = Discemu.FileSystems.Fat.FatFileSystemType.Instance.Open(device, new FileSystemOpenOptions { Writable = true });
            var w = (IWritableFileSystem)fs;
            Action[] steps =
            [
                () => w.CreateDirectory("/fuzz dir"),
                () => w.CreateFile("/fuzz dir/new file.txt"),
                () => w.Write("/fuzz dir/new file.txt", 0, new byte[5000]),
                () => w.Move("/fuzz dir/new file.txt", "/moved.TXT"),
                () => w.SetLength("/moved.TXT", 10),
                () => w.Delete("/moved.TXT"),
                () => w.SetLabel("FUZZ"),
                () => w.Flush(),
            ];
            foreach (var step in steps)
            {
                try { step(); }
                catch (DiscemuException) { }
            }
            WalkFileSystem(fs, ReadCap);
        }
        catch (DiscemuException) { }
    }

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

    private static void UdfTarget(ReadOnlySpan<byte> data)
    {
        using var device = new MemoryDevice(data);
        if (FileSystems.Udf.UdfFileSystemType.Instance.Probe(device) is < 0 or > 100) throw new InvalidOperationException("Probe out of range.");
        try
        {
            using var fs = FileSystems.Udf.UdfFileSystemType.Instance.Open(device, new FileSystemOpenOptions());
            WalkFileSystem(fs, ReadCap);
        }
        catch (DiscemuException) { }
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

    private static void VhdFooterTarget(ReadOnlySpan<byte> data)
    {
        try
        {
            var footer = VhdFooter.Read(data, null);
            _ = footer.VirtualSize;
            // A footer that parses must serialise back to itself, and resizing it must keep its size rule.
            var again = VhdFooter.Read(footer.ToBytes(), null);
            if (again != footer) throw new InvalidOperationException($"Footer does not round-trip: {footer} became {again}.");
            long size = Math.Min(footer.CurrentSize / 512 * 512, VhdConstants.MaxVirtualSize);
            var resized = footer.WithSize(size);
            if (resized.VirtualSize != size) throw new InvalidOperationException($"A footer resized to {size} reads as {resized.VirtualSize}.");
        }
        catch (DiscemuException) { }
    }

    private static void VhdHeaderTarget(ReadOnlySpan<byte> data)
    {
        try
        {
            var header = VhdDynamicHeader.Read(data, null);
            var bytes = header.ToBytes();
            var again = VhdDynamicHeader.Read(bytes, null);
            if (!again.ToBytes().AsSpan().SequenceEqual(bytes)) throw new InvalidOperationException("Dynamic header does not round-trip.");
            // Locator data as paths: the bytes after the header stand in for the data each locator points at.
            var rest = data.Length > VhdConstants.DynamicHeaderSize ? data[VhdConstants.DynamicHeaderSize..] : [];
            foreach (var l in header.Locators)
                if (l.InUse) VhdParentPaths.Decode(l.PlatformCode, rest[..Math.Min(rest.Length, (int)Math.Min(l.DataLength, 4096u))]);
        }
        catch (DiscemuException) { }
    }

    private static void VdiHeaderTarget(ReadOnlySpan<byte> data)
    {
        try
        {
            var header = VdiHeader.Read(data, null);
            var bytes = header.ToBytes();
            var again = VdiHeader.Read(bytes, null);
            if (!again.ToBytes().AsSpan().SequenceEqual(bytes)) throw new InvalidOperationException("VDI header does not round-trip.");
        }
        catch (DiscemuException) { }
    }
}
