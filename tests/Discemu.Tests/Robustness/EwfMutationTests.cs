using System.Buffers.Binary;
using System.Text;
using Discemu.Formats.Ewf;
using Discemu.Fuzz;
using Discemu.Tests.Formats.Ewf;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Robustness;

/// <summary>
/// Damaged EWF segments must fail with a typed error (or open and read): mutations aimed at the
/// section descriptors, volume, header and table sections (EWF1) and the descriptors and sector
/// tables (EWF2).
/// </summary>
public sealed class EwfMutationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Every EWF1 section descriptor, plus the start of each metadata section's data.</summary>
    internal static List<(long Offset, long Length)> HotRanges(byte[] file)
    {
        var hot = new List<(long, long)> { (0, 13) };
        long offset = 13;
        for (int guard = 0; guard < 10_000 && offset + 76 <= file.Length; guard++)
        {
            string type = Encoding.ASCII.GetString(file, (int)offset, 16).TrimEnd('\0');
            long next = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan((int)offset + 16));
            long size = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan((int)offset + 24));
            hot.Add((offset, 76));
            long data = Math.Max(0, Math.Min(size - 76, file.Length - offset - 76));
            hot.Add((offset + 76, type == "sectors" ? Math.Min(data, 64) : Math.Min(data, 4096)));
            if (next <= offset || type is "done" or "next") break;
            offset = next;
        }
        return hot;
    }

    /// <summary>Every EWF2 section descriptor (walking back from the end) and the data of the tables.</summary>
    internal static List<(long Offset, long Length)> HotRanges2(byte[] file)
    {
        var hot = new List<(long, long)> { (0, 32) };
        long offset = file.Length - 64;
        for (int guard = 0; guard < 10_000 && offset >= 32; guard++)
        {
            hot.Add((offset, 64));
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan((int)offset));
            long previous = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan((int)offset + 8));
            long size = BinaryPrimitives.ReadInt64LittleEndian(file.AsSpan((int)offset + 16));
            if (type != 3 && size > 0 && size <= offset) hot.Add((offset - size, Math.Min(size, 4096)));
            if (previous <= 0 || previous >= offset) break;
            offset = previous;
        }
        return hot;
    }

    private byte[] WrittenSeed(EwfCompression compression)
    {
        var media = EwfTestMedia.Mixed(48 * 4096, seed: (int)compression);
        string path = _dir.File($"seed-{compression}.E01");
        EwfTestMedia.WriteSet(path, media, new EwfWriterOptions
        {
            MediaSize = media.Length, Compression = compression, SectorsPerChunk = 8, CaseNumber = "c", ExaminerName = "e",
        }, errors: [(8192, 512)]);
        MutationHarness.AssertPristineOpens(path, "ewf");
        return File.ReadAllBytes(path);
    }

    [Theory]
    [InlineData(EwfCompression.None)]
    [InlineData(EwfCompression.Fast)]
    public void MutatedWrittenSetsFailTypedNeverCrash(EwfCompression compression)
    {
        var seed = WrittenSeed(compression);
        MutationHarness.Run(_dir, $"ewf-{compression}", seed, MutationHarness.Iterations(40), "case.E01", HotRanges(seed));
    }

    [Fact]
    public void MutatedRealE01FailsTypedNeverCrashes()
    {
        var seed = File.ReadAllBytes(TestData.Real("ext2.E01"));
        MutationHarness.Run(_dir, "ewf-real", seed, MutationHarness.Iterations(30), "case.E01", HotRanges(seed));
    }

    [Fact]
    public void MutatedSmartSetsFromEwfacquireFailTypedNeverCrash()
    {
        PeerTools.Require("ewfacquire");
        string src = EwfTestMedia.WriteFile(_dir.File("src.raw"), EwfTestMedia.Mixed(40 * 4096));
        PeerTools.RunOk("ewfacquire", "-u", "-q", "-f", "smart", "-c", "fast", "-b", "16", "-t", _dir.File("smart"), src);
        var seed = File.ReadAllBytes(_dir.File("smart.s01"));
        MutationHarness.Run(_dir, "ewf-smart", seed, MutationHarness.Iterations(25), "case.s01", HotRanges(seed));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MutatedEwf2SetsFailTypedNeverCrash(bool compress)
    {
        string path = _dir.File("seed.Ex01");
        Ewf2Builder.Write(path, EwfTestMedia.Mixed(24 * 4096), new Ewf2Builder.Options { SectorsPerChunk = 8, Compress = compress, Errors = [(1, 1)] });
        MutationHarness.AssertPristineOpens(path, "ewf");
        var seed = File.ReadAllBytes(path);
        MutationHarness.Run(_dir, $"ewf2-{compress}", seed, MutationHarness.Iterations(30), "case.Ex01", HotRanges2(seed));
    }
}
