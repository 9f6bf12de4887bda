using System.Buffers.Binary;
using Discemu.Formats;
using Discemu.Formats.Vdi;
using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Vhd.DiskTestKit;

namespace Discemu.Tests.Formats.Vdi;

/// <summary>
/// VDI interop with qemu-img, both ways and per subformat, and <c>check</c> parity on damage made to its images.
/// </summary>
public sealed class VdiInteropTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private const long SourceSize = (9L << 20) + 7 * 512;

    [Theory]
    [InlineData("static=off")]
    [InlineData("static=on")]
    public void ReadsWhatQemuImgWrote(string options)
    {
        PeerTools.Require("qemu-img");
        var (src, data) = MixedSource(_dir, "src.raw", SourceSize, 31);
        string image = _dir.File("q.vdi");
        QemuImg("convert", "-f", "raw", "-O", "vdi", "-o", options, src, image);
        var expected = QemuRaw(_dir, image, "vdi");
        AssertSameBytes(data, expected, "qemu-img's own rendering against the source");
        using (var vdi = ImageOpener.Default.Open(image))
        {
            Assert.Equal("vdi", vdi.Format.Name);
            Assert.Equal(SourceSize, vdi.Length);
            Assert.Equal(options == "static=on" ? "static" : "dynamic", vdi.FormatSpecific.First(p => p.Key == "image-type").Value);
            AssertSameBytes(expected, ReadAll(vdi), "Discemu's read");
            AssertStatusAgrees(vdi, expected, options);
            Assert.Equal(0, ((ICheckableImage)vdi).Check(CheckRepair.None).ExitCode);
        }
        string back = _dir.File("back.raw");
        CliOk("convert", "-O", "raw", image, back);
        AssertSameBytes(expected, File.ReadAllBytes(back), "discemu convert to raw");
        // Writing into qemu-img's image keeps it clean for qemu-img.
        using (var rw = ImageOpener.Default.Open(image, new ImageOpenOptions { Writable = true }))
        {
            var piece = new byte[3 << 20];
            new Random(1).NextBytes(piece);
            rw.Write(SourceSize - piece.Length - 1000, piece);
            piece.CopyTo(expected, SourceSize - piece.Length - 1000);
        }
        AssertCheckClean(image);
        AssertSameBytes(expected, QemuRaw(_dir, image, "vdi"), "qemu-img after Discemu wrote");
    }

    [Theory]
    [InlineData("")]
    [InlineData("static=on")]
    public void QemuImgReadsWhatDiscemuWrote(string options)
    {
        PeerTools.Require("qemu-img");
        long size = SourceSize - 333;
        var (src, data) = MixedSource(_dir, "src.raw", size, 32);
        string image = _dir.File("d.vdi");
        var args = new List<string> { "convert", "-O", "vdi" };
        if (options.Length > 0) args.AddRange(["-o", options]);
        CliOk([.. args, src, image]);
        long expectedSize = (size + 511) / 512 * 512;
        Assert.Equal(expectedSize, QemuVirtualSize(image, "vdi"));
        AssertCheckClean(image);
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["compare", "-f", "raw", "-F", "vdi", src, image]);
        Assert.True(code == 0, $"qemu-img compare exited {code}: {stdout}{stderr}");
        AssertSameBytes(Padded(data, expectedSize), QemuRaw(_dir, image, "vdi"), "qemu-img's read");
        // qemu-img writes into Discemu's image, and both still agree.
        QemuIo("vdi", image, "write -P 0x3c 5000 3000000");
        AssertCheckClean(image);
        using var vdi = ImageOpener.Default.Open(image);
        AssertSameBytes(QemuRaw(_dir, image, "vdi"), ReadAll(vdi), "after qemu-io wrote");
    }

    [Fact]
    public void SparseDisksBeyondFourGiBInteroperate()
    {
        PeerTools.Require("qemu-img");
        long size = 5L << 30;
        long[] spots = [0, (4L << 30) - 4096, (4L << 30) + (1 << 20) + 512, size - 65536];
        string q = _dir.File("q.vdi");
        QemuImg("create", "-q", "-f", "vdi", q, "5G");
        for (int i = 0; i < spots.Length; i++) QemuIo("vdi", q, $"write -P {0x51 + i} {spots[i]} 65536");
        using (var vdi = ImageOpener.Default.Open(q)) AssertSpots(vdi, spots);

        string d = _dir.File("d.vdi");
        using (var vdi = VdiFormat.Instance.Create(new ImageCreateRequest(d, size, CreateOptions.Empty, ImageOpener.Default)))
            for (int i = 0; i < spots.Length; i++) vdi.Write(spots[i], Enumerable.Repeat((byte)(0x51 + i), 65536).ToArray());
        Assert.Equal(size, QemuVirtualSize(d, "vdi"));
        AssertCheckClean(d);
        for (int i = 0; i < spots.Length; i++) QemuIo("vdi", d, $"read -P {0x51 + i} {spots[i]} 65536");
        QemuIo("vdi", d, $"read -P 0 {1L << 30} 65536");
        using (var vdi = ImageOpener.Default.Open(d)) AssertSpots(vdi, spots);
    }

    private static void AssertSpots(DiskImage vdi, long[] spots)
    {
        var buffer = new byte[65536];
        for (int i = 0; i < spots.Length; i++)
        {
            vdi.Read(spots[i], buffer);
            Assert.True(buffer.AsSpan().IndexOfAnyExcept((byte)(0x51 + i)) < 0, $"spot {i} at {spots[i]}");
        }
        var st = vdi.GetStatus(1L << 30, 1L << 30);
        Assert.True(st.IsZero && st.Length == 1L << 30, $"the untouched second GiB reports {st}");
    }

    private static void AssertCheckClean(string image)
    {
        var (code, stdout, stderr) = PeerTools.Run("qemu-img", ["check", "-f", "vdi", image]);
        Assert.True(code == 0, $"qemu-img check exited {code}:\n{stdout}{stderr}");
    }

    /// <summary>Damage as (block map entry index, new value) pairs and header count changes ("count" = new blocks-allocated).</summary>
    public static TheoryData<string> Damage => ["dup:5=1", "dup:5=0,4=3", "dup:2=1,4=1,5=1", "large:1=100", "slot:1=2", "count:3", "count:1", "zero:1", "count:10", "dup:4=0,5=1"];

    [Theory]
    [MemberData(nameof(Damage))]
    public void CheckFindsWhatQemuImgFinds(string damage)
    {
        PeerTools.Require("qemu-img");
        var data = new byte[6 << 20];
        new Random(4).NextBytes(data.AsSpan(0, 100_000));
        new Random(5).NextBytes(data.AsSpan(3 << 20, 100_000));
        File.WriteAllBytes(_dir.File("src.raw"), data);
        string image = _dir.File("t.vdi");
        QemuImg("convert", "-f", "raw", "-O", "vdi", _dir.File("src.raw"), image);
        Apply(image, damage);
        var (qCode, qOut, qErr) = PeerTools.Run("qemu-img", ["check", "-f", "vdi", image]);
        var (code, stdout, stderr) = RunCli("check", image);
        Assert.Equal(qCode, code);
        Assert.Equal(qErr.Trim(), stderr.Trim());
        Assert.Equal(qOut, stdout);
        var (qjCode, qjOut, _) = PeerTools.Run("qemu-img", ["check", "-f", "vdi", "--output", "json", image]);
        var (jCode, jOut, _) = RunCli("check", "--output", "json", image);
        Assert.Equal(qjCode, jCode);
        Assert.Equal(JsonFields(qjOut), JsonFields(jOut)); // the same keys and values (the order is the CLI's)
    }

    private static string JsonFields(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        return string.Join(", ", doc.RootElement.EnumerateObject().Select(p => $"{p.Name}={p.Value}").Order(StringComparer.Ordinal));
    }

    internal static void Apply(string image, string damage)
    {
        var (kind, rest) = (damage[..damage.IndexOf(':')], damage[(damage.IndexOf(':') + 1)..]);
        var b = new byte[4];
        if (kind == "count")
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, uint.Parse(rest, System.Globalization.CultureInfo.InvariantCulture));
            Patch(image, 0x184, b);
            return;
        }
        foreach (var pair in rest.Split(','))
        {
            var parts = pair.Split('=');
            uint value = kind == "zero" ? 0xFFFFFFFE : uint.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            BinaryPrimitives.WriteUInt32LittleEndian(b, value);
            Patch(image, 0x200 + 4 * int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), b);
        }
    }

    [Fact]
    public void RepairFreesEntriesPastTheImageAndFixesTheCount()
    {
        PeerTools.Require("qemu-img");
        var data = new byte[6 << 20];
        new Random(4).NextBytes(data.AsSpan(0, 100_000));
        new Random(5).NextBytes(data.AsSpan(3 << 20, 100_000));
        File.WriteAllBytes(_dir.File("src.raw"), data);
        string image = _dir.File("t.vdi");
        QemuImg("convert", "-f", "raw", "-O", "vdi", _dir.File("src.raw"), image);
        Apply(image, "large:4=100");
        Apply(image, "count:1"); // also undercounts what is in use
        Assert.Equal(2, RunCli("check", image).Code);
        var (code, stdout, _) = RunCli("check", "-r", "all", image);
        Assert.Equal(0, code);
        Assert.Contains("2 corruptions", stdout);
        AssertCheckClean(image);
        // A slot used twice cannot be repaired: it stays reported.
        Apply(image, "dup:5=1");
        Assert.Equal(2, RunCli("check", "-r", "all", image).Code);
    }

    [Fact]
    public void AWriteCutShortAfterCountingItsSlotIsRepairedByTheNextWrite()
    {
        PeerTools.Require("qemu-img");
        string image = _dir.File("t.vdi");
        using (var vdi = VdiFormat.Instance.Create(new ImageCreateRequest(image, 8L << 20, CreateOptions.Empty, ImageOpener.Default)))
            vdi.Write(0, new byte[] { 1 });
        // What a kill between "count the slot" and "point the map at it" leaves: one slot counted, none using it.
        Apply(image, "count:2");
        var (qCode, _, qErr) = PeerTools.Run("qemu-img", ["check", "-f", "vdi", image]);
        Assert.Equal(2, qCode);
        Assert.Contains("allocated blocks mismatch, is 1, should be 2", qErr);
        using (var vdi = ImageOpener.Default.Open(image, new ImageOpenOptions { Writable = true }))
        {
            vdi.Write(5L << 20, new byte[] { 2 }); // takes the orphaned slot
            Assert.Equal(2u, ((VdiImage)vdi).Header.BlocksAllocated);
        }
        AssertCheckClean(image);
        var content = QemuRaw(_dir, image, "vdi");
        Assert.Equal(1, content[0]);
        Assert.Equal(2, content[5 << 20]);
    }
}
