using Discemu.Block;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Block;

/// <summary>A window at an odd offset of a RAM disk whose bytes around the window are marked.</summary>
public sealed class SubRangeOverMemoryConformanceTests : DeviceConformanceTests
{
    private const long Start = 3 * 65536 + 777;
    private const long Tail = 70_001;
    private MemoryDevice? _inner;

    // Inner chunks do not line up with the window's units, so only the unit-free promises hold.
    protected override DeviceExpectations Expectations => DeviceExpectations.ReportsHoles | DeviceExpectations.DiscardZeroes;
    protected override int Granularity => 65536;
    protected override IEnumerable<long> Boundaries(long length) => [65536 - Start % 65536, 2 * 65536 - Start % 65536];

    protected override BlockDevice CreateDevice(TempDir dir, long length)
    {
        _inner = new MemoryDevice(Start + length + Tail);
        return new SubRangeDevice(_inner, Start, length, ownsInner: false);
    }

    [Fact]
    public void OperationsNeverLeaveTheWindow()
    {
        var dev = NewDevice();
        var inner = _inner!;
        inner.Write(0, Enumerable.Repeat((byte)0xEE, (int)Start).ToArray());
        inner.Write(Start + dev.Length, Enumerable.Repeat((byte)0xEE, (int)Tail).ToArray());
        dev.Write(0, Pattern((int)dev.Length, 3));
        dev.WriteZeroes(0, dev.Length);
        dev.Discard(0, dev.Length);
        dev.Write(dev.Length - 1, [1]);
        var head = new byte[Start];
        var tail = new byte[Tail];
        inner.Read(0, head);
        inner.Read(Start + dev.Length, tail);
        Assert.True(head.All(b => b == 0xEE) && tail.All(b => b == 0xEE), "a window operation changed bytes outside the window");
        Assert.Throws<NotSupportedException>(() => dev.Resize(dev.Length + 1));
        inner.Dispose();
    }
}

/// <summary>A window of a file; reopened through a read-only file for the read-only checks.</summary>
public sealed class SubRangeOverFileConformanceTests : DeviceConformanceTests
{
    private const long Start = 8192;
    private long _length;

    protected override DeviceExpectations Expectations => SparseFiles.IfSupported(DeviceExpectations.All);

    protected override BlockDevice CreateDevice(TempDir dir, long length)
    {
        _length = length;
        return new SubRangeDevice(FileDevice.Create(dir.File("inner.img"), Start + length + 4096), Start, length, ownsInner: true);
    }

    protected override BlockDevice? Reopen(TempDir dir, bool writable)
        => new SubRangeDevice(FileDevice.Open(dir.File("inner.img"), writable), Start, _length, ownsInner: true);
}
