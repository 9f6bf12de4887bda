using System.Security.Cryptography;
using System.Text.Json;
using Discemu.Acquisition;
using Discemu.Formats;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

/// <summary><c>discemu acquire</c> on healthy sources: destinations, logs, verification, resume, argument errors.</summary>
public sealed class AcquireCommandTests
{
    private static string Hex(byte[] hash) => Convert.ToHexStringLower(hash);

    private static JsonElement Log(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    private static string Source(TempDir dir, long size = (3 << 20) + 1536)
        => size < 2 << 20
            ? CliHarness.SparseRaw(dir, "evidence.raw", size, (0, (int)size / 2))
            : CliHarness.SparseRaw(dir, "evidence.raw", size, (0, 70_000), (1 << 20, 300_000), (size - 5000, 5000));

    [Fact]
    public void AcquiresToRawWithHashesLogsAndAFinishedMapfile()
    {
        using var dir = new TempDir();
        string src = Source(dir);
        string dst = dir.File("image.dd");
        var (code, stdout, stderr) = CliHarness.Run("acquire", "--hash", "md5,sha1,sha256,sha512", "--case", "2024-17", "--examiner", "J. Doe",
            "--evidence", "HDD-3", "--description", "laptop disk", "--notes", "seized 3 May", src, dst);
        Assert.True(code == 0, stderr);
        var bytes = File.ReadAllBytes(src);
        Assert.Equal(bytes, File.ReadAllBytes(dst));
        Assert.Contains($"md5     {Hex(MD5.HashData(bytes))}", stdout);
        Assert.Contains("Finished", stderr);

        var log = Log(dst + ".log.json");
        var hashes = log.GetProperty("hashes");
        Assert.Equal(Hex(MD5.HashData(bytes)), hashes.GetProperty("md5").GetString());
        Assert.Equal(Hex(SHA1.HashData(bytes)), hashes.GetProperty("sha1").GetString());
        Assert.Equal(Hex(SHA256.HashData(bytes)), hashes.GetProperty("sha256").GetString());
        Assert.Equal(Hex(SHA512.HashData(bytes)), hashes.GetProperty("sha512").GetString());
        Assert.Equal("completed", log.GetProperty("status").GetString());
        Assert.Equal("discemu", log.GetProperty("tool").GetProperty("name").GetString());
        Assert.Equal(src, log.GetProperty("source").GetProperty("path").GetString());
        Assert.Equal(bytes.Length, log.GetProperty("source").GetProperty("size").GetInt64());
        Assert.Equal("file", log.GetProperty("source").GetProperty("kind").GetString());
        Assert.Equal("raw", log.GetProperty("destination").GetProperty("format").GetString());
        Assert.Equal("J. Doe", log.GetProperty("case").GetProperty("examiner").GetString());
        Assert.Equal("HDD-3", log.GetProperty("case").GetProperty("evidence_number").GetString());
        Assert.Equal(0, log.GetProperty("bad_ranges").GetArrayLength());
        Assert.Equal(bytes.Length, log.GetProperty("statistics").GetProperty("bytes_recovered").GetInt64());
        Assert.Contains("--examiner 'J. Doe'", log.GetProperty("command_line").GetString());
        var start = DateTimeOffset.Parse(log.GetProperty("start_time").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(start <= DateTimeOffset.UtcNow && start > DateTimeOffset.UtcNow.AddHours(-1));
        Assert.EndsWith("Z", log.GetProperty("end_time").GetString());

        string text = File.ReadAllText(dst + ".log.txt");
        Assert.Contains("laptop disk", text);
        Assert.Contains(Hex(SHA256.HashData(bytes)), text);
        var map = Mapfile.Load(dst + ".map");
        Assert.Equal(RescuePhase.Finished, map.Phase);
        Assert.True(map.Map.IsComplete);
    }

    [Fact]
    public void RawDestinationIsSparseUnlessAskedOtherwise()
    {
        using var dir = new TempDir();
        string src = dir.File("zeros.raw");
        var bytes = new byte[4 << 20];
        new Random(3).NextBytes(bytes.AsSpan(0, 1 << 20));
        File.WriteAllBytes(src, bytes);
        string sparse = dir.File("sparse.raw"), full = dir.File("full.raw");
        Assert.Equal(0, CliHarness.Run("acquire", "-q", src, sparse).Code);
        Assert.Equal(0, CliHarness.Run("acquire", "-q", "--no-sparse", src, full).Code);
        Assert.Equal(bytes, File.ReadAllBytes(sparse));
        Assert.Equal(bytes, File.ReadAllBytes(full));
        using (var s = Discemu.Block.FileDevice.Open(sparse, false)) Assert.True(s.GetStatus(2 << 20, 1 << 20).IsZero);
        using (var f = Discemu.Block.FileDevice.Open(full, false)) Assert.True(f.GetStatus(2 << 20, 1 << 20).HasData);
        Assert.True(Log(full + ".log.json").GetProperty("options").GetProperty("sparse").GetBoolean() == false);
    }

    [Fact]
    public void RefusesToOverwriteWithoutForce()
    {
        using var dir = new TempDir();
        string src = Source(dir);
        string dst = dir.File("out.raw");
        File.WriteAllText(dst, "precious");
        var error = CliHarness.AssertOneLineError(CliHarness.Run("acquire", "-q", src, dst));
        Assert.Contains("already exists", error);
        Assert.Equal("precious", File.ReadAllText(dst));
        Assert.Equal(0, CliHarness.Run("acquire", "-q", "--force", src, dst).Code);
        Assert.Equal(File.ReadAllBytes(src), File.ReadAllBytes(dst));
    }

    [Fact]
    public void RunningTheSameCommandAgainResumesFromTheMapfile()
    {
        using var dir = new TempDir();
        string src = Source(dir);
        string dst = dir.File("resume.raw");
        var bytes = File.ReadAllBytes(src);
        // An earlier run got the first MiB.
        File.WriteAllBytes(dst, bytes.AsSpan(0, 1 << 20).ToArray().Concat(new byte[bytes.Length - (1 << 20)]).ToArray());
        var map = new RescueMap(bytes.Length);
        map.Set(0, 1 << 20, RescueBlockStatus.Finished);
        Mapfile.Save(dst + ".map", Mapfile.Format(new MapfileState(map, 1 << 20, RescuePhase.Copying, 1),
            new MapfileHeader("test", "1", "x", DateTimeOffset.UtcNow), DateTimeOffset.UtcNow, "Copying"));
        var (code, _, stderr) = CliHarness.Run("acquire", "-q", "--hash", "sha256", src, dst);
        Assert.True(code == 0, stderr);
        Assert.Equal(bytes, File.ReadAllBytes(dst));
        var log = Log(dst + ".log.json");
        Assert.True(log.GetProperty("resumed").GetBoolean());
        Assert.Equal(bytes.Length - (1 << 20), log.GetProperty("statistics").GetProperty("bytes_read").GetInt64());
        Assert.Equal(Hex(SHA256.HashData(bytes)), log.GetProperty("hashes").GetProperty("sha256").GetString());
    }

    [Fact]
    public void AMapfileWithProgressButNoDestinationIsAnError()
    {
        using var dir = new TempDir();
        string src = Source(dir);
        string dst = dir.File("gone.raw");
        var map = new RescueMap(new FileInfo(src).Length);
        map.Set(0, 4096, RescueBlockStatus.Finished);
        Mapfile.Save(dst + ".map", Mapfile.Format(new MapfileState(map, 0, RescuePhase.Copying, 1), new MapfileHeader("t", "1", "x", DateTimeOffset.UtcNow), DateTimeOffset.UtcNow, "x"));
        Assert.Contains("missing", CliHarness.AssertOneLineError(CliHarness.Run("acquire", "-q", src, dst)));
    }

    [Fact]
    public void SplitRawPiecesOpenAsOneDiskAndVerify()
    {
        using var dir = new TempDir();
        string src = Source(dir);
        string dst = dir.File("split.raw");
        var (code, stdout, stderr) = CliHarness.Run("acquire", "-q", "--split", "1M", "--verify", "--hash", "sha1", src, dst);
        Assert.True(code == 0, stderr);
        Assert.Contains("Verification of the destination: match", stdout);
        var pieces = Enumerable.Range(1, 4).Select(i => $"{dst}.{i:000}").ToList();
        Assert.All(pieces.Take(3), p => Assert.Equal(1 << 20, new FileInfo(p).Length));
        Assert.Equal(1536, new FileInfo(pieces[3]).Length);
        Assert.False(File.Exists(dst + ".005"));
        using var image = ImageOpener.Default.Open(pieces[0]);
        var read = new byte[image.Length];
        image.Read(0, read);
        Assert.Equal(File.ReadAllBytes(src), read);
        var log = Log(dst + ".log.json");
        Assert.Equal(pieces, log.GetProperty("destination").GetProperty("files").EnumerateArray().Select(e => e.GetString()!));
        Assert.True(log.GetProperty("verification").GetProperty("destination").GetProperty("match").GetBoolean());
    }

    [Fact]
    public void SplitNamesFollowAnExplicitFirstPieceName()
    {
        Assert.Equal(["/x/disk.000", "/x/disk.001"], AcquisitionSinks.SplitNames("/x/disk.000", 10, 5));
        Assert.Equal(["/x/disk.001", "/x/disk.002", "/x/disk.003"], AcquisitionSinks.SplitNames("/x/disk.001", 11, 5));
        Assert.Equal(["/x/disk.E01.001"], AcquisitionSinks.SplitNames("/x/disk.E01", 0, 5));
        Assert.Throws<BadArgumentException>(() => AcquisitionSinks.SplitNames("/x/d", 1000, 1));
    }

    [Fact]
    public void QcowDestinationPassesQemuImgCheckAndCompare()
    {
        PeerTools.Require("qemu-img");
        using var dir = new TempDir();
        string src = Source(dir);
        string dst = dir.File("image.qcow2");
        var (code, _, stderr) = CliHarness.Run("acquire", "-q", "-o", "cluster_size=65536", "--verify", src, dst);
        Assert.True(code == 0, stderr);
        PeerTools.RunOk("qemu-img", "check", "-f", "qcow2", dst);
        PeerTools.RunOk("qemu-img", "compare", "-f", "raw", "-F", "qcow2", src, dst);
        Assert.Equal("qcow2", Log(dst + ".log.json").GetProperty("destination").GetProperty("format").GetString());
    }

    [Fact]
    public void AnImageSourceIsReadThroughItsDriver()
    {
        using var dir = new TempDir();
        string raw = Source(dir);
        string qcow = dir.File("source.qcow2");
        Assert.Equal(0, CliHarness.Run("convert", "-O", "qcow2", raw, qcow).Code);
        string dst = dir.File("from-qcow.raw");
        var (code, _, stderr) = CliHarness.Run("acquire", "-q", "--verify-source", qcow, dst);
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllBytes(raw), File.ReadAllBytes(dst));
        var source = Log(dst + ".log.json").GetProperty("source");
        Assert.Equal("image", source.GetProperty("kind").GetString());
        Assert.Equal("qcow2", source.GetProperty("format").GetString());
        Assert.True(Log(dst + ".log.json").GetProperty("verification").GetProperty("source").GetProperty("match").GetBoolean());
    }

    [Fact]
    public void SequentialModeAndLogPrefix()
    {
        using var dir = new TempDir();
        string src = Source(dir);
        string dst = dir.File("seq.raw");
        string prefix = dir.File("case-logs");
        var (code, _, stderr) = CliHarness.Run("acquire", "-q", "--sequential", "--log", prefix, "--fill", "ff", src, dst);
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllBytes(src), File.ReadAllBytes(dst));
        var log = Log(prefix + ".json");
        Assert.Equal("sequential", log.GetProperty("mode").GetString());
        Assert.Equal("ff", log.GetProperty("options").GetProperty("fill").GetString());
        Assert.True(File.Exists(prefix + ".txt"));
        Assert.False(File.Exists(dst + ".log.json"));
    }

    [Fact]
    public void DirectIoReadsTheSameBytes()
    {
        using var dir = new TempDir();
        string src = Source(dir);
        string dst = dir.File("direct.raw");
        var (code, _, stderr) = CliHarness.Run("acquire", "-q", "--direct", "-c", "7", src, dst);
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllBytes(src), File.ReadAllBytes(dst));
        Assert.True(Log(dst + ".log.json").GetProperty("source").GetProperty("direct_io").GetBoolean());
    }

    [Theory]
    [InlineData("--fill", "zz")]
    [InlineData("--hash", "crc32")]
    [InlineData("--split", "0")]
    [InlineData("-O", "nosuchformat")]
    [InlineData("--skip-size", "1,2,3")]
    [InlineData("--timeout", "5x")]
    [InlineData("--sector-size", "0")]
    [InlineData("--retries", "-1")]
    [InlineData("--map-interval", "-1")]
    public void BadArgumentsGiveOneLineErrors(string option, string value)
    {
        using var dir = new TempDir();
        string src = Source(dir, 4096);
        CliHarness.AssertOneLineError(CliHarness.Run("acquire", "-q", option, value, src, dir.File("x.raw")));
        Assert.False(File.Exists(dir.File("x.raw")));
    }

    [Fact]
    public void TheSourceIsNeverADestination()
    {
        using var dir = new TempDir();
        string src = Source(dir);
        string hash = CliHarness.Sha256(src);
        string link = dir.File("link.raw");
        File.CreateSymbolicLink(link, src);
        Assert.Contains("the source itself", CliHarness.AssertOneLineError(CliHarness.Run("acquire", "-q", "--force", src, src)));
        Assert.Contains("the source itself", CliHarness.AssertOneLineError(CliHarness.Run("acquire", "-q", "--force", src, link)));
        Assert.Contains("the source itself", CliHarness.AssertOneLineError(CliHarness.Run("acquire", "-q", "--force", "--map", src, src, dir.File("d.raw"))));
        Assert.Contains("named twice", CliHarness.AssertOneLineError(CliHarness.Run("acquire", "-q", "--map", dir.File("d.raw"), src, dir.File("d.raw"))));
        Assert.Equal(hash, CliHarness.Sha256(src));
    }

    [Fact]
    public void MissingSourceIsAnAccessError()
    {
        using var dir = new TempDir();
        Assert.Contains("No such file", CliHarness.AssertOneLineError(CliHarness.Run("acquire", dir.File("nope"), dir.File("x.raw"))));
    }

    [Fact]
    public void HelpListsTheOptions()
    {
        var (code, stdout, _) = CliHarness.Run("acquire", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--map", "--retries", "--min-read-rate", "--split", "--hash", "--verify-source", "--sequential", "--examiner" })
            Assert.Contains(option, stdout);
    }
}
