using Discemu.Block;
using Discemu.Formats;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Qcow2.Qcow2TestKit;

namespace Discemu.Tests.Formats.Qcow2;

/// <summary>Images written by qemu-img/qemu-io, read by Discemu and compared with qemu-img's raw output.</summary>
public sealed class Qcow2ReadInteropTests
{
    public static TheoryData<string, int, int, string, bool, string, int> Matrix => new()
    {
        // compat, cluster size, refcount bits, compression, extended L2, preallocation, backing depth
        { "1.1", 65536, 16, "none", false, "off", 0 },
        { "0.10", 512, 16, "zlib", false, "off", 1 },
        { "1.1", 4096, 1, "zstd", false, "off", 0 },
        { "1.1", 2 << 20, 64, "zlib", false, "off", 3 },
        { "1.1", 65536, 64, "none", true, "metadata", 0 },
        { "1.1", 32768, 16, "zstd", true, "off", 1 },
        { "1.1", 4096, 16, "none", false, "full", 0 },
        { "0.10", 65536, 16, "none", false, "metadata", 3 },
        { "1.1", 512, 64, "zlib", false, "off", 1 },
    };

    [Theory]
    [MemberData(nameof(Matrix))]
    public void ReadsWhatQemuWrote(string compat, int clusterSize, int refcountBits, string compression, bool extendedL2, string prealloc, int depth)
    {
        using var dir = new TempDir();
        long size = clusterSize >= (1 << 20) ? 24 << 20 : 6 << 20;
        string top = BuildChain(dir, compat, clusterSize, refcountBits, compression, extendedL2, prealloc, depth, size);
        var expected = QemuRaw(dir, top);
        using var image = Open(top);
        Assert.Equal(size, image.Length);
        AssertSameBytes(expected, ReadAll(image), "whole disk");
        AssertStatusConsistent(image, expected);

        // Without the backing chain, unallocated ranges read as zeros.
        using var alone = Open(top, openBacking: false);
        Assert.Null(alone.Backing);
        var aloneBytes = ReadAll(alone);
        for (long pos = 0; pos < size;)
        {
            var st = alone.GetStatus(pos, size - pos);
            if (!st.IsAllocated) Assert.True(aloneBytes.AsSpan((int)pos, (int)st.Length).IndexOfAnyExcept((byte)0) < 0, $"unallocated range at {pos} is not zero");
            else AssertSameBytes(expected.AsSpan((int)pos, (int)st.Length).ToArray(), aloneBytes.AsSpan((int)pos, (int)st.Length).ToArray(), $"allocated range at {pos}");
            pos += st.Length;
        }
    }

    /// <summary>Builds a base image plus <paramref name="depth"/> overlays with qemu tools; returns the top.</summary>
    internal static string BuildChain(TempDir dir, string compat, int clusterSize, int refcountBits, string compression, bool extendedL2, string prealloc, int depth, long size)
    {
        string opts = $"compat={compat},cluster_size={clusterSize}" + (compat == "1.1" ? $",refcount_bits={refcountBits}" : "")
            + (extendedL2 ? ",extended_l2=on" : "") + (compression == "zstd" ? ",compression_type=zstd" : "");
        string path = dir.File("base.qcow2");
        if (compression != "none")
        {
            var raw = dir.File("src.raw");
            var data = Pattern((int)size, 7);
            data.AsSpan((int)(size / 3), (int)(size / 5)).Clear();
            File.WriteAllBytes(raw, data);
            QemuImg("convert", "-c", "-f", "raw", "-O", "qcow2", "-o", opts, raw, path);
        }
        else
        {
            QemuImg("create", "-f", "qcow2", "-o", opts + $",preallocation={prealloc}", path, size.ToString());
            long half = size / 2;
            QemuIo(path, "write -P 0xa1 0 1M", $"write -P 0x5c {half - 3000} 70000", "write -z 1M 128k", $"write -P 0x33 {size - 65536} 65536");
        }
        for (int level = 1; level <= depth; level++)
        {
            string overlay = dir.File($"overlay{level}.qcow2");
            QemuImg("create", "-f", "qcow2", "-b", System.IO.Path.GetFileName(path), "-F", "qcow2", "-o", opts, overlay);
            int b = 0x10 * level;
            QemuIo(overlay,
                $"write -P 0x{b:x2} {level * 5000} 3000",
                $"write -P 0x{b + 1:x2} {(level * 1) << 20} {clusterSize + 1024}",
                $"write -z {(level + 2) << 19} {clusterSize}",
                $"discard {size / 2} {Math.Max(clusterSize, 65536)}",
                $"write -P 0x{b + 2:x2} {size - 4096} 4096");
            path = overlay;
        }
        return path;
    }

    /// <summary>Every status answer must be consistent with the data: zero ranges read zeros, host offsets hold the bytes.</summary>
    internal static void AssertStatusConsistent(DiskImage image, byte[] expected)
    {
        long size = image.Length;
        using var host = FileDevice.Open(image.Path, writable: false);
        for (long pos = 0; pos < size;)
        {
            var st = image.GetStatus(pos, size - pos);
            Assert.InRange(st.Length, 1, size - pos);
            var span = expected.AsSpan((int)pos, (int)st.Length);
            if (st.IsZero) Assert.True(span.IndexOfAnyExcept((byte)0) < 0, $"range at {pos} (+{st.Length}) reported zero but is not");
            if (st.Depth == 0 && st.HostOffset >= 0 && (st.Flags & BlockStatusFlags.Data) != 0 && (st.Flags & BlockStatusFlags.Compressed) == 0)
            {
                var onHost = new byte[st.Length];
                long available = Math.Max(0, Math.Min(st.Length, host.Length - st.HostOffset));
                host.Read(st.HostOffset, onHost.AsSpan(0, (int)available));
                AssertSameBytes(span.ToArray(), onHost, $"host bytes at 0x{st.HostOffset:x} for guest {pos}");
            }
            pos += st.Length;
        }
    }

    [Fact]
    public void RealExt2Image()
    {
        using var image = ImageOpener.Default.Open(TestData.Real("ext2.qcow2"));
        Assert.Equal(4194304, image.Length);
        Assert.Equal("a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80", Sha256(ReadAll(image)));
        Assert.Contains(image.FormatSpecific, kv => kv.Key == "compat" && (string?)kv.Value == "1.1");
    }

    [Fact]
    public void RealWindowsVolumeImage()
    {
        using var image = ImageOpener.Default.Open(TestData.Real("windows_volume.qcow2"));
        Assert.Equal(35913728, image.Length);
        Assert.Equal("44abe9deca9658f331a2bdba2deb53192d04f35d157a1fb3ba0597b03f0524f2", Sha256(ReadAll(image)));
    }

    [Fact]
    public void StatusMergesClustersIntoFewAnswers()
    {
        using var dir = new TempDir();
        var path = dir.File("m.qcow2");
        QemuImg("create", "-f", "qcow2", path, "64M");
        QemuIo(path, "write -P 1 0 8M", "write -z 16M 8M");
        using var image = Open(path);
        var first = image.GetStatus(0, image.Length);
        Assert.Equal(8L << 20, first.Length);
        Assert.Equal(BlockStatusFlags.Data | BlockStatusFlags.Allocated, first.Flags);
        var hole = image.GetStatus(8L << 20, image.Length - (8L << 20));
        Assert.Equal(8L << 20, hole.Length);
        Assert.Equal(BlockStatusFlags.None, hole.Flags);
        var zero = image.GetStatus(16L << 20, image.Length - (16L << 20));
        Assert.Equal(8L << 20, zero.Length);
        Assert.Equal(BlockStatusFlags.Zero | BlockStatusFlags.Allocated, zero.Flags);
    }

    [Fact]
    public void StatusDefersToBackingAndIsZeroPastItsEnd()
    {
        using var dir = new TempDir();
        var basePath = dir.File("b.qcow2");
        var top = dir.File("t.qcow2");
        QemuImg("create", "-f", "qcow2", basePath, "1M");
        QemuIo(basePath, "write -P 7 0 64k");
        QemuImg("create", "-f", "qcow2", "-b", "b.qcow2", "-F", "qcow2", top, "4M");
        using var image = Open(top);
        var st = image.GetStatus(0, image.Length);
        Assert.Equal(1, st.Depth);
        Assert.True(st.HasData);
        Assert.Equal(65536, st.Length);
        var past = image.GetStatus(2 << 20, 1 << 20);
        Assert.True(past.IsZero);
        Assert.False(past.IsAllocated);
        var bytes = ReadAll(image);
        Assert.True(bytes.AsSpan(0, 65536).IndexOfAnyExcept((byte)7) < 0);
        Assert.True(bytes.AsSpan(65536).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal("b.qcow2", image.BackingFileName);
        Assert.Equal("qcow2", image.BackingFormatName);
    }
}
