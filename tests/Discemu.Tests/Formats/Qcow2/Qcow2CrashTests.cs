using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using System.Text.Json;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Qcow2.Qcow2TestKit;

namespace Discemu.Tests.Formats.Qcow2;

/// <summary>
/// Crash safety of QCOW2 writes: a real <c>discemu convert</c> process is killed with SIGKILL at
/// several points of its copy; the image must then pass <c>qemu-img check</c> with at most leaks,
/// open and read with Discemu, and hold, in every 4 KiB block, either the new or the old content.
/// </summary>
public sealed class Qcow2CrashTests(Qcow2CrashTests.Source source) : IClassFixture<Qcow2CrashTests.Source>
{
    /// <summary>How the writer process is run.</summary>
    public enum Mode
    {
        /// <summary>convert into a new image.</summary>
        Plain,
        /// <summary>convert -c into a new image.</summary>
        Compressed,
        /// <summary>convert -n into an existing image with data and a backing file (copy-on-write, L2 updates).</summary>
        IntoExisting,
        /// <summary>convert into a new image with lazy_refcounts=on (dirty bit, rebuild on the next writable open).</summary>
        Lazy,
        /// <summary>
        /// convert a sparse 18 GiB disk into 4 KiB clusters: more L2 tables than the cache holds, so
        /// metadata is written back in the middle of the copy (where the metadata kill point lands).
        /// </summary>
        ManyTables,
    }

    private const int Block = 4096;
    private const int Region = 1 << 20;
    private const long DiskSize = 128L << 20;

    private const long SparseSize = 18L << 30;
    private const long SparseStride = 2L << 20;

    /// <summary>
    /// Where the kill lands: at the first sign of the writer (0), at fractions of the image's final
    /// growth, and (<see cref="OnMetadata"/>) as soon as the first refcount block on disk changes,
    /// which is the first step of a metadata write-back (refcounts, then L2 tables, then L1).
    /// </summary>
    private static readonly double[] KillPoints = [0, 0.1, 0.4, 0.7, OnMetadata];

    private const double OnMetadata = -1;

    /// <summary>The shared source disk (random, compressible, written zeros, holes and 4 KiB-grained mixes) and its block hashes.</summary>
    public sealed class Source : IDisposable
    {
        private readonly TempDir _dir = new();

        /// <summary>Builds the source raw file.</summary>
        public Source()
        {
            Dir = _dir;
            RawPath = _dir.File("source.raw");
            var rng = new Random(20240611);
            var region = new byte[Region];
            using (var fs = new FileStream(RawPath, FileMode.Create, FileAccess.Write))
            {
                fs.SetLength(DiskSize);
                for (long r = 0; r < DiskSize / Region; r++)
                {
                    if (!FillRegion(rng, (int)(r % 8), region)) continue;
                    fs.Position = r * Region;
                    fs.Write(region);
                }
            }
            Hashes = BlockHashes(RawPath, null);

            SparsePath = _dir.File("sparse.raw");
            using var sparse = new FileStream(SparsePath, FileMode.Create, FileAccess.Write);
            sparse.SetLength(SparseSize);
            var block = new byte[Block];
            for (long at = 0; at < SparseSize; at += SparseStride)
            {
                long offset = at + rng.Next((int)(SparseStride / Block) - 1) * (long)Block;
                rng.NextBytes(block);
                sparse.Position = offset;
                sparse.Write(block);
                SparseBlocks[offset] = XxHash3.HashToUInt64(block);
            }
        }

        /// <summary>The sparse source: one random 4 KiB block in every 2 MiB of 18 GiB.</summary>
        public string SparsePath { get; }

        /// <summary>Offsets and hashes of the sparse source's data blocks.</summary>
        public Dictionary<long, ulong> SparseBlocks { get; } = [];

        /// <summary>The test's folder (removed with the fixture).</summary>
        public TempDir Dir { get; }

        /// <summary>The source raw file.</summary>
        public string RawPath { get; }

        /// <summary>XxHash3 of every 4 KiB block of the source.</summary>
        public ulong[] Hashes { get; }

        /// <summary>Fills one region by kind; false for a hole (nothing written).</summary>
        private static bool FillRegion(Random rng, int kind, byte[] region)
        {
            switch (kind)
            {
                case 0 or 1 or 2:
                    rng.NextBytes(region);
                    return true;
                case 3 or 7:
                    // Compressible: byte runs with a little noise.
                    for (int i = 0; i < region.Length;)
                    {
                        int n = Math.Min(rng.Next(16, 512), region.Length - i);
                        region.AsSpan(i, n).Fill((byte)rng.Next(8));
                        i += n;
                        if (i < region.Length) region[i++] = (byte)rng.Next(256);
                    }
                    return true;
                case 4:
                    Array.Clear(region);
                    return true;
                case 5:
                    return false;
                default:
                    // Random and zero 4 KiB blocks mixed: partial-cluster writes and write-zeroes.
                    for (int b = 0; b < region.Length / Block; b++)
                    {
                        var block = region.AsSpan(b * Block, Block);
                        if (rng.Next(3) == 0) block.Clear();
                        else rng.NextBytes(block);
                    }
                    return true;
            }
        }

        /// <inheritdoc/>
        public void Dispose() => _dir.Dispose();
    }

    [Theory]
    [InlineData(Mode.Plain)]
    [InlineData(Mode.Compressed)]
    [InlineData(Mode.IntoExisting)]
    [InlineData(Mode.Lazy)]
    [InlineData(Mode.ManyTables)]
    public void KilledConvertLeavesAConsistentImage(Mode mode)
    {
        PeerTools.Require("qemu-img");
        string? template = mode == Mode.IntoExisting ? MakeExistingTemplate(mode) : null;
        ulong[]? oldHashes = template is null ? null : BlockHashesOfImage(template);

        // An uninterrupted run: the image must be clean and equal the source; its size calibrates the kill points.
        string full = source.Dir.File($"{mode}-full.qcow2");
        long startSize = Prepare(template, full);
        var (_, fullExit, fullErr) = RunWriter(mode, full, startSize, growth: long.MinValue);
        Assert.True(fullExit == 0, $"{mode}: the writer failed with exit {fullExit}: {fullErr}");
        AssertCheck(full, allowLeaks: false);
        AssertContent(mode, full, oldHashes, complete: true, what: $"{mode} uninterrupted");
        long growth = new FileInfo(full).Length - startSize;
        Assert.True(growth > 8L << 20, $"{mode}: the copy grew the image by only {growth} bytes.");
        File.Delete(full);

        int interrupted = 0;
        var notes = new List<string>();
        foreach (double point in KillPoints)
        {
            string what = $"{mode} at {(point == OnMetadata ? "metadata write-back" : point.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
            string path = source.Dir.File($"{mode}-{interrupted}-{notes.Count}.qcow2");
            long before = Prepare(template, path);
            var (killed, exit, stderr) = RunWriter(mode, path, before, point <= 0 ? (long)point : (long)(growth * point));
            if (!killed || exit == 0) Assert.True(exit == 0, $"{what}: the writer failed with exit {exit}: {stderr}");
            bool cut = killed && exit != 0;
            if (cut) interrupted++;
            notes.Add($"{what}: {(cut ? "killed" : "finished")} at {new FileInfo(path).Length} bytes");

            if (mode == Mode.Lazy)
            {
                // Data writes had begun and the copy was far from done: the dirty bit must be on disk.
                if (cut && point is > 0 and <= 0.4) Assert.True((ReadIncompatible(path) & 1) == 1, $"{what}: the dirty bit is not set after the kill.");
                using (var rw = Open(path, writable: true)) Assert.False(rw.IsDirty);
                Assert.Equal(0UL, ReadIncompatible(path) & 1);
                AssertCheck(path, allowLeaks: false);
            }
            else
            {
                AssertCheck(path, allowLeaks: true);
            }
            AssertContent(mode, path, oldHashes, complete: !cut, what);
            File.Delete(path);
        }
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(Environment.NewLine, notes));
        Assert.True(interrupted * 2 >= KillPoints.Length,
            $"{mode}: only {interrupted} of {KillPoints.Length} kills interrupted the copy ({string.Join("; ", notes)}).");
        if (template is not null) File.Delete(template);
    }

    /// <summary>An existing image with a raw backing file and data of its own in part of the disk.</summary>
    private string MakeExistingTemplate(Mode mode)
    {
        string backing = source.Dir.File("backing.raw");
        if (!File.Exists(backing))
        {
            var rng = new Random(77);
            var region = new byte[Region];
            using var fs = new FileStream(backing, FileMode.Create, FileAccess.Write);
            fs.SetLength(DiskSize);
            for (long r = 0; r < DiskSize / Region; r += 2)
            {
                rng.NextBytes(region);
                fs.Position = r * Region;
                fs.Write(region);
            }
        }
        string template = source.Dir.File($"{mode}-template.qcow2");
        using (var image = Create(template, DiskSize, "cluster_size=65536", "backing.raw", "raw"))
        {
            var rng = new Random(78);
            var data = new byte[Region];
            for (long r = 1; r < DiskSize / Region; r += 4)
            {
                rng.NextBytes(data);
                image.Write(r * Region, data);
            }
            // Partial clusters: their other parts come from the backing file.
            var piece = new byte[3 * Block];
            for (long r = 3; r < DiskSize / Region; r += 8)
            {
                rng.NextBytes(piece);
                image.Write(r * Region + 5 * Block, piece);
            }
            image.Flush();
        }
        return template;
    }

    /// <summary>Copies the template to <paramref name="path"/> (or makes sure none is there); returns its size.</summary>
    private static long Prepare(string? template, string path)
    {
        if (template is null)
        {
            File.Delete(path);
            return 0;
        }
        File.Copy(template, path, overwrite: true);
        return new FileInfo(path).Length;
    }

    /// <summary>
    /// Runs <c>discemu convert</c> and kills it (SIGKILL) once the target grew by <paramref name="growth"/>
    /// bytes (0: at the first sign of it; <see cref="OnMetadata"/>: when the first refcount block changes;
    /// below that: never). Returns whether a kill was sent, the exit code and stderr.
    /// </summary>
    private (bool Killed, int Exit, string Stderr) RunWriter(Mode mode, string target, long startSize, long growth)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Discemu.Cli.dll"));
        psi.ArgumentList.Add("convert");
        psi.ArgumentList.Add("-f");
        psi.ArgumentList.Add("raw");
        psi.ArgumentList.Add("-O");
        psi.ArgumentList.Add("qcow2");
        switch (mode)
        {
            case Mode.Compressed: psi.ArgumentList.Add("-c"); break;
            case Mode.IntoExisting: psi.ArgumentList.Add("-n"); break;
        }
        if (mode != Mode.IntoExisting)
        {
            psi.ArgumentList.Add("-o");
            psi.ArgumentList.Add(mode switch
            {
                Mode.Lazy => "cluster_size=64k,lazy_refcounts=on",
                Mode.ManyTables => "cluster_size=4k",
                _ => "cluster_size=64k",
            });
        }
        psi.ArgumentList.Add(mode == Mode.ManyTables ? source.SparsePath : source.RawPath);
        psi.ArgumentList.Add(target);

        DateTime startWrite = File.Exists(target) ? File.GetLastWriteTimeUtc(target) : default;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        bool killed = false;
        var deadline = Stopwatch.StartNew();
        byte[]? refBlock = null;
        while (!p.HasExited && growth >= OnMetadata)
        {
            var info = new FileInfo(target);
            bool trigger = growth == OnMetadata
                ? MetadataWritten(target, startSize, ref refBlock)
                : growth == 0
                ? startSize == 0 ? HasMagic(target) : info.Exists && (info.Length != startSize || info.LastWriteTimeUtc != startWrite)
                : info.Exists && info.Length - startSize >= growth;
            if (trigger)
            {
                try { p.Kill(); } catch (InvalidOperationException) { }
                killed = true;
                break;
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(120)) break;
            Thread.Sleep(1);
        }
        if (!p.WaitForExit(120_000))
        {
            p.Kill();
            Assert.Fail($"The writer did not finish: {string.Join(' ', psi.ArgumentList)}");
        }
        p.WaitForExit();
        _ = stdout.Result;
        return (killed, p.ExitCode, stderr.Result);
    }

    /// <summary>qemu-img check: no corruptions, no check errors; leaks only when allowed (exit 3).</summary>
    private static void AssertCheck(string path, bool allowLeaks)
    {
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["check", "--output=json", "-f", "qcow2", path]);
        Assert.True(code == 0 || (allowLeaks && code == 3), $"qemu-img check exited {code}:\n{stdout}{stderr}");
        using var doc = JsonDocument.Parse(stdout);
        long Field(string name) => doc.RootElement.TryGetProperty(name, out var v) ? v.GetInt64() : 0;
        Assert.True(Field("corruptions") == 0 && Field("check-errors") == 0, $"qemu-img check found damage:\n{stdout}");
        if (!allowLeaks) Assert.True(Field("leaks") == 0, $"qemu-img check found leaks:\n{stdout}");
    }

    /// <summary>
    /// Every 4 KiB block reads as either the source's content or what the image held before the copy
    /// (all of them the source's when <paramref name="complete"/>).
    /// </summary>
    private void AssertContent(Mode mode, string path, ulong[]? oldHashes, bool complete, string what)
    {
        if (oldHashes is null && !complete)
        {
            // A kill while the image was being created may leave a valid empty image (size set last).
            using var image = Open(path);
            if (image.Length == 0) return;
        }
        if (mode == Mode.ManyTables)
        {
            AssertSparseContent(path, complete, what);
            return;
        }
        var actual = BlockHashesOfImage(path);
        ulong zero = XxHash3.HashToUInt64(new byte[Block]);
        for (int i = 0; i < actual.Length; i++)
        {
            ulong old = oldHashes?[i] ?? zero;
            if (actual[i] != source.Hashes[i] && (complete || actual[i] != old))
                Assert.Fail($"{what}: the block at 0x{(long)i * Block:x} holds neither the {(complete ? "" : "old nor the ")}new content.");
        }
    }

    /// <summary>The sparse copy: data only where the source has it, each block new or zeros.</summary>
    private void AssertSparseContent(string path, bool complete, string what)
    {
        using var image = Open(path);
        Assert.Equal(SparseSize, image.Length);
        for (long offset = 0; offset < SparseSize;)
        {
            var st = image.GetStatus(offset, SparseSize - offset);
            if (st.HasData)
                for (long b = offset / Block * Block; b < offset + st.Length; b += Block)
                    Assert.True(source.SparseBlocks.ContainsKey(b), $"{what}: data at 0x{b:x} where the source has a hole.");
            offset += st.Length;
        }
        ulong zero = XxHash3.HashToUInt64(new byte[Block]);
        var buffer = new byte[Block];
        foreach (var (offset, hash) in source.SparseBlocks)
        {
            image.Read(offset, buffer);
            ulong actual = XxHash3.HashToUInt64(buffer);
            if (actual != hash && (complete || actual != zero))
                Assert.Fail($"{what}: the block at 0x{offset:x} holds neither zeros nor the new content.");
        }
    }

    /// <summary>Block hashes of a qcow2 image read through Discemu (with its backing file).</summary>
    private static ulong[] BlockHashesOfImage(string path)
    {
        using var image = Open(path);
        Assert.Equal(DiskSize, image.Length);
        return BlockHashes(null, image);
    }

    private static ulong[] BlockHashes(string? rawPath, Discemu.Block.BlockDevice? device)
    {
        var hashes = new ulong[DiskSize / Block];
        var buffer = new byte[Region];
        using var fs = rawPath is null ? null : new FileStream(rawPath, FileMode.Open, FileAccess.Read);
        for (long offset = 0; offset < DiskSize; offset += Region)
        {
            if (fs is not null) fs.ReadExactly(buffer);
            else device!.Read(offset, buffer);
            for (int b = 0; b < Region / Block; b++)
                hashes[offset / Block + b] = XxHash3.HashToUInt64(buffer.AsSpan(b * Block, Block));
        }
        return hashes;
    }

    /// <summary>
    /// True once the first refcount block differs from what it held when the writer was ready
    /// (a new image: once its size is set), i.e. a metadata write-back has begun.
    /// </summary>
    private static bool MetadataWritten(string path, long startSize, ref byte[]? baseline)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var header = new byte[64];
            if (fs.Read(header) < header.Length || BinaryPrimitives.ReadUInt32BigEndian(header) != Discemu.Formats.Qcow2.Qcow2Constants.Magic) return false;
            if (startSize == 0 && BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(24)) == 0) return false;
            int clusterSize = 1 << (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(20));
            var entry = new byte[8];
            fs.Position = (long)BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(48));
            fs.ReadExactly(entry);
            var block = new byte[clusterSize];
            fs.Position = (long)BinaryPrimitives.ReadUInt64BigEndian(entry);
            fs.ReadExactly(block);
            if (baseline is null)
            {
                baseline = block;
                return false;
            }
            return !block.AsSpan().SequenceEqual(baseline);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>True once a new image's header is on disk (before that the file is not an image yet).</summary>
    private static bool HasMagic(string path)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            Span<byte> magic = stackalloc byte[4];
            return fs.Read(magic) == 4 && BinaryPrimitives.ReadUInt32BigEndian(magic) == Discemu.Formats.Qcow2.Qcow2Constants.Magic;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static ulong ReadIncompatible(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var b = new byte[8];
        fs.Position = 72;
        fs.ReadExactly(b);
        return BinaryPrimitives.ReadUInt64BigEndian(b);
    }
}
