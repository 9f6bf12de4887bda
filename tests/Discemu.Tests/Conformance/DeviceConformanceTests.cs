using Discemu.Block;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Conformance;

/// <summary>What a driver promises beyond the <see cref="BlockDevice"/> contract, so the suite knows what to assert.</summary>
[Flags]
public enum DeviceExpectations
{
    /// <summary>Only the base contract.</summary>
    None = 0,
    /// <summary>Never-written ranges of a fresh device are reported by <see cref="BlockDevice.GetStatus"/> as zero (holes).</summary>
    ReportsHoles = 1,
    /// <summary>After <c>WriteZeroes(mayUnmap: true)</c>, every whole <see cref="DeviceConformanceTests.Granularity"/> unit of the range reports zero.</summary>
    WriteZeroesReportsZero = 2,
    /// <summary>After <see cref="BlockDevice.Discard"/>, every whole unit of the range reads as zeros.</summary>
    DiscardZeroes = 4,
    /// <summary>After <see cref="BlockDevice.Discard"/>, every whole unit of the range is reported as zero (deallocated).</summary>
    DiscardDeallocates = 8,
    /// <summary>Everything above.</summary>
    All = ReportsHoles | WriteZeroesReportsZero | DiscardZeroes | DiscardDeallocates,
}

/// <summary>
/// The behaviour every <see cref="BlockDevice"/> (a block wrapper or an image format driver) must show.
/// Each driver gets a small subclass; xunit runs every test below against it.
/// </summary>
/// <remarks>
/// <para>Adding a driver (the QCOW2 driver, for example) takes about fifteen lines:</para>
/// <code>
/// public sealed class Qcow2ConformanceTests : DeviceConformanceTests
/// {
///     protected override DeviceExpectations Expectations => DeviceExpectations.All;
///     protected override int Granularity => 65536;     // the cluster size the image is created with
///     protected override int LengthAlignment => 512;   // qemu-img sizes are whole sectors
///
///     protected override BlockDevice CreateDevice(TempDir dir, long length)
///         => Qcow2Format.Instance.Create(new ImageCreateRequest(dir.File("t.qcow2"), length,
///                CreateOptions.Parse("cluster_size=64k"), ImageOpener.Default));
///
///     protected override BlockDevice? Reopen(TempDir dir, bool writable)
///         => ImageOpener.Default.Open(dir.File("t.qcow2"), new ImageOpenOptions { Writable = writable });
///
///     protected override IEnumerable&lt;long&gt; Boundaries(long length) => [65536, 65536L * 8192]; // cluster, L2 span
/// }
/// </code>
/// <para><see cref="CreateDevice"/> makes a fresh writable device of exactly the requested length (a
/// multiple of <see cref="LengthAlignment"/>) inside the per-test <see cref="TempDir"/>. Override
/// <see cref="Reopen"/> when the device persists (files): the suite then checks persistence after
/// flush and the read-only mode. Override <see cref="ExpectedInitialContents"/> when a fresh device
/// is not all zeros (an overlay on a patterned base, an image with a backing file). A driver whose
/// fresh device is not all zeros should not claim <see cref="DeviceExpectations.ReportsHoles"/>.</para>
/// <para>Random tests print their seed on failure; set DISCEMU_CONFORMANCE_SEED to rerun one seed and
/// DISCEMU_CONFORMANCE_OPS to run more operations.</para>
/// </remarks>
public abstract partial class DeviceConformanceTests : IDisposable
{
    private readonly List<BlockDevice> _opened = [];

    /// <summary>The per-test folder; deleted after the test.</summary>
    protected TempDir Dir { get; } = new();

    /// <summary>Creates a fresh writable device of <paramref name="length"/> bytes in <paramref name="dir"/>.</summary>
    protected abstract BlockDevice CreateDevice(TempDir dir, long length);

    /// <summary>What the driver promises (see <see cref="DeviceExpectations"/>).</summary>
    protected abstract DeviceExpectations Expectations { get; }

    /// <summary>
    /// Reopens the last device made by <see cref="CreateDevice"/> (already disposed by the suite), or
    /// null when the device does not persist.
    /// </summary>
    protected virtual BlockDevice? Reopen(TempDir dir, bool writable) => null;

    /// <summary>The allocation unit whole multiples of which the status expectations apply to.</summary>
    protected virtual int Granularity => 4096;

    /// <summary>Device lengths the suite asks for are multiples of this.</summary>
    protected virtual int LengthAlignment => 1;

    /// <summary>Internal boundaries worth crossing (chunk, cluster, table or part edges), besides the generic ones.</summary>
    protected virtual IEnumerable<long> Boundaries(long length) => [];

    /// <summary>What a fresh device of <paramref name="length"/> bytes reads as (zeros by default).</summary>
    protected virtual byte[] ExpectedInitialContents(long length) => new byte[length];

    /// <summary>The default device length: a little over 3 MiB, deliberately not a power of two.</summary>
    protected long DefaultLength => Align(3L * 1024 * 1024 + 12345);

    /// <summary>Rounds up to <see cref="LengthAlignment"/>.</summary>
    protected long Align(long n) => (n + LengthAlignment - 1) / LengthAlignment * LengthAlignment;

    /// <summary>True when the driver promises <paramref name="e"/>.</summary>
    protected bool Expects(DeviceExpectations e) => (Expectations & e) == e;

    /// <summary>Creates a device and remembers it for disposal.</summary>
    protected BlockDevice NewDevice(long? length = null)
    {
        var dev = CreateDevice(Dir, length ?? DefaultLength);
        _opened.Add(dev);
        return dev;
    }

    /// <summary>Disposes <paramref name="device"/> and reopens it, or skips the test when the driver cannot.</summary>
    protected BlockDevice ReopenOrSkip(BlockDevice device, bool writable)
    {
        device.Dispose();
        var again = Reopen(Dir, writable);
        if (again is null) Assert.Skip($"{GetType().Name}: the device does not persist, so it cannot be reopened.");
        _opened.Add(again);
        return again;
    }

    /// <summary>Writes <paramref name="data"/> to both the device and the model.</summary>
    internal static void Write(BlockDevice dev, DeviceModel model, long offset, ReadOnlySpan<byte> data)
    {
        dev.Write(offset, data);
        model.Write(offset, data);
    }

    /// <summary>Deterministic non-zero-heavy bytes for a seed.</summary>
    protected static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        for (int i = 0; i < b.Length; i += 97) b[i] |= 1; // never a long run of zeros by chance
        return b;
    }

    /// <summary>Seeds for random tests: DISCEMU_CONFORMANCE_SEED when set, else <paramref name="defaults"/>.</summary>
    protected static int[] Seeds(params int[] defaults)
        => int.TryParse(Environment.GetEnvironmentVariable("DISCEMU_CONFORMANCE_SEED"), out int s) ? [s] : defaults;

    /// <summary>Ranges of whole <see cref="Granularity"/> units inside [offset, offset+length).</summary>
    protected IEnumerable<(long Offset, long Length)> WholeUnits(long offset, long length)
    {
        long g = Granularity;
        for (long u = (offset + g - 1) / g * g; u + g <= offset + length; u += g) yield return (u, g);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var d in _opened) d.Dispose();
        Dir.Dispose();
        GC.SuppressFinalize(this);
    }
}
