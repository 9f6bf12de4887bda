using System.Security.Cryptography;
using System.Text;
using Discemu.Formats.Vhdx;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vhdx.VhdxTestKit;

namespace Discemu.Tests.Formats.Vhdx;

/// <summary>The log: entry validation, the active-sequence search of MS-VHDX 2.3.3, and replay on open.</summary>
public sealed class VhdxLogTests
{
    private const int Sector = 4096;

    [Fact]
    public void Crc32CMatchesTheCastagnoliCheckValue()
    {
        Assert.Equal(0xE3069283u, VhdxCrc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, VhdxCrc32C.Compute([]));
        var data = Pattern(10_000, 1);
        Assert.Equal(VhdxCrc32C.Compute(data), VhdxCrc32C.Finish(VhdxCrc32C.Append(VhdxCrc32C.Append(VhdxCrc32C.Seed, data.AsSpan(0, 3333)), data.AsSpan(3333))));
    }

    private static (long, byte[])[] Pages(int count, int seed)
        => [.. Enumerable.Range(0, count).Select(i => ((long)(1 << 20) + i * Sector * 3, Pattern(Sector, seed + i)))];

    private static void Place(byte[] log, long position, byte[] entry)
    {
        for (int s = 0; s < entry.Length / Sector; s++)
            entry.AsSpan(s * Sector, Sector).CopyTo(log.AsSpan((int)((position + (long)s * Sector) % log.Length)));
    }

    [Fact]
    public void AnEntryRoundTripsWithItsPagesAndDescriptorsSpanningSectors()
    {
        var guid = Guid.NewGuid();
        var pages = Pages(130, 5); // more than fit in the first descriptor sector
        var entry = VhdxLog.BuildEntry(guid, 77, 0, pages, 8 << 20, 9 << 20);
        Assert.Equal((2 + 130) * Sector, entry.Length);
        var log = new byte[1 << 20];
        Place(log, 0, entry);
        Assert.True(VhdxLog.TryParseEntry(log, 0, guid, out var parsed));
        Assert.Equal(77UL, parsed.Sequence);
        Assert.Equal(8L << 20, parsed.FlushedFileOffset);
        Assert.Equal(9L << 20, parsed.LastFileOffset);
        Assert.Equal(pages.Length, parsed.Writes.Count);
        for (int i = 0; i < pages.Length; i++)
        {
            Assert.Equal(pages[i].Item1, parsed.Writes[i].FileOffset);
            Assert.Equal(pages[i].Item2, parsed.Writes[i].Data);
        }
        Assert.False(VhdxLog.TryParseEntry(log, 0, Guid.NewGuid(), out _));
    }

    [Theory]
    [InlineData(4)]       // checksum
    [InlineData(64 + 24)] // the first descriptor's sequence number
    [InlineData(2 * Sector + 4)] // the first data sector's SequenceHigh
    [InlineData(2 * Sector + 100)] // data (covered by the checksum)
    [InlineData(3 * Sector - 1)]   // the first data sector's SequenceLow
    public void ADamagedEntryIsRejected(int offset)
    {
        var guid = Guid.NewGuid();
        var entry = VhdxLog.BuildEntry(guid, 5, 0, Pages(130, 9), 0, 1 << 20);
        var log = new byte[1 << 20];
        Place(log, 0, entry);
        Assert.True(VhdxLog.TryParseEntry(log, 0, guid, out _));
        log[offset] ^= 0x40;
        Assert.False(VhdxLog.TryParseEntry(log, 0, guid, out _));
        Assert.Empty(VhdxLog.FindActiveSequence(log, guid));
    }

    [Fact]
    public void TheActiveSequenceIsTheNewestCompleteOneFromItsTail()
    {
        var guid = Guid.NewGuid();
        var log = new byte[1 << 20];
        // An old sequence (10, 11) at the start, a newer one (20..22) further on whose entries point at its tail.
        long a = 0, b = VhdxLog.BuildEntry(guid, 10, 0, Pages(2, 1), 0, 1 << 20).Length;
        Place(log, a, VhdxLog.BuildEntry(guid, 10, 0, Pages(2, 1), 0, 1 << 20));
        Place(log, b, VhdxLog.BuildEntry(guid, 11, 0, Pages(1, 2), 0, 1 << 20));
        long t = 64 * Sector;
        long pos = t;
        var lengths = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            var e = VhdxLog.BuildEntry(guid, 20UL + (ulong)i, (uint)t, Pages(i + 1, 10 * i), 0, 2 << 20);
            Place(log, pos, e);
            lengths.Add(pos);
            pos += e.Length;
        }
        // A stale entry with another GUID and a higher sequence number must not win.
        Place(log, 200 * Sector, VhdxLog.BuildEntry(Guid.NewGuid(), 99, (uint)(200 * Sector), Pages(1, 7), 0, 1 << 20));
        var seq = VhdxLog.FindActiveSequence(log, guid);
        Assert.Equal([20UL, 21UL, 22UL], seq.Select(e => e.Sequence));
        Assert.Equal(lengths, seq.Select(e => e.Position));
    }

    [Fact]
    public void ASequenceWrapsAroundTheEndOfTheLog()
    {
        var guid = Guid.NewGuid();
        var log = new byte[1 << 20];
        long start = log.Length - 2 * Sector;
        var first = VhdxLog.BuildEntry(guid, 7, (uint)start, Pages(3, 1), 0, 1 << 20); // 4 sectors: wraps
        Place(log, start, first);
        Place(log, 2 * Sector, VhdxLog.BuildEntry(guid, 8, (uint)start, Pages(1, 2), 0, 1 << 20));
        var seq = VhdxLog.FindActiveSequence(log, guid);
        Assert.Equal([7UL, 8UL], seq.Select(e => e.Sequence));
        Assert.Equal(Pages(3, 1)[2].Item2, seq[0].Writes[2].Data);
    }

    [Fact]
    public void AHeadWhoseTailIsOutsideItsSequenceIsNotValid()
    {
        var guid = Guid.NewGuid();
        var log = new byte[1 << 20];
        Place(log, 0, VhdxLog.BuildEntry(guid, 3, 0, Pages(1, 1), 0, 1 << 20));
        Assert.Equal([3UL], VhdxLog.FindActiveSequence(log, guid).Select(e => e.Sequence));
        // Entry 4 follows 3 but claims a tail 100 sectors away, where no entry of its sequence is: the scan
        // from 3 takes both in and finds the head's tail outside them, so (by the procedure of MS-VHDX
        // 2.3.3) no sequence is valid.
        Place(log, 2 * Sector, VhdxLog.BuildEntry(guid, 4, 100 * Sector, Pages(1, 2), 0, 1 << 20));
        Assert.Empty(VhdxLog.FindActiveSequence(log, guid));
    }

    /// <summary>
    /// Makes an image whose log holds one committed but not yet applied entry: the crash lands after the
    /// log entry and the header naming it were written, before the BAT page reached its place.
    /// Returns the written pattern's offset and bytes.
    /// </summary>
    internal static (long Offset, byte[] Data) MakeDirtyImage(TempDir dir, string path, string options = "block_size=1M")
    {
        using (var image = Create(path, 16 << 20, options)) image.Write(0, Pattern(100_000, 1));
        var data = Pattern(300_000, 2);
        const long offset = 5 << 20;
        string copy = dir.File("attempt.vhdx");
        for (int n = 0; n < 40; n++)
        {
            File.Copy(path, copy, overwrite: true);
            bool crashed = VhdxCrash.Run(copy, n, img => { img.Write(offset, data); img.Flush(); });
            Assert.True(crashed, $"the work finished within {n} writes before a dirty log was seen");
            if (LogGuidOnDisk(copy) == Guid.Empty) continue;
            // The header names the log: is the BAT page still old? Then only a replay shows the data.
            using (var raw = Open(copy, openBacking: false))
            {
                var replayed = new byte[data.Length];
                raw.Read(offset, replayed);
                Assert.Equal(data, replayed);
            }
            File.Copy(copy, path, overwrite: true);
            File.Delete(copy);
            return (offset, data);
        }
        Assert.Fail("no crash point left the log dirty");
        return default;
    }

    [Fact]
    public void AReadOnlyOpenReplaysTheLogInMemoryAndLeavesTheFileAlone()
    {
        using var dir = new TempDir();
        string path = dir.File("dirty.vhdx");
        var (offset, data) = MakeDirtyImage(dir, path);
        var before = SHA256.HashData(File.ReadAllBytes(path));
        using (var image = (VhdxImage)Open(path))
        {
            Assert.True(image.IsDirty);
            Assert.Contains(image.FormatSpecific, kv => kv.Key == "log" && ((string)kv.Value!).Contains("in memory"));
            var read = new byte[data.Length];
            image.Read(offset, read);
            Assert.Equal(data, read);
            Assert.Equal(Pattern(100_000, 1), ReadAll(image)[..100_000]);
        }
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(path)));
        Assert.NotEqual(Guid.Empty, LogGuidOnDisk(path));
    }

    [Fact]
    public void AWritableOpenReplaysTheLogIntoTheFileAndClearsIt()
    {
        using var dir = new TempDir();
        string path = dir.File("dirty.vhdx");
        var (offset, data) = MakeDirtyImage(dir, path);
        using (var image = Open(path, writable: true))
        {
            Assert.False(image.IsDirty);
            var read = new byte[data.Length];
            image.Read(offset, read);
            Assert.Equal(data, read);
        }
        Assert.Equal(Guid.Empty, LogGuidOnDisk(path));
        // Now the bytes are in place for any reader, with or without a log replay.
        PeerTools.Require("qemu-img");
        AssertQemuCheckClean(path);
        var expected = new byte[16 << 20];
        Pattern(100_000, 1).CopyTo(expected, 0);
        data.CopyTo(expected, offset);
        AssertSameBytes(expected, QemuRaw(dir, path), "qemu-img's view after our replay");
    }

    [Fact]
    public void QemuImgReplaysALogWeLeftDirtyWhenItOpensForWriting()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string path = dir.File("dirty.vhdx");
        var (offset, data) = MakeDirtyImage(dir, path);
        // Read-only, qemu-img refuses to touch the image until the log is replayed...
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["check", "-f", "vhdx", path]);
        Assert.NotEqual(0, code);
        Assert.Contains("log", stdout + stderr, StringComparison.OrdinalIgnoreCase);
        // ...and its repair mode replays it (the entries we wrote are valid to qemu).
        PeerTools.RunOk("qemu-img", "check", "-r", "all", "-f", "vhdx", path);
        Assert.Equal(Guid.Empty, LogGuidOnDisk(path));
        AssertQemuCheckClean(path);
        var expected = new byte[16 << 20];
        Pattern(100_000, 1).CopyTo(expected, 0);
        data.CopyTo(expected, offset);
        AssertSameBytes(expected, QemuRaw(dir, path), "qemu-img's view after its replay");
    }
}
