using Discemu.Block;
using Discemu.Formats;
using Discemu.FileSystems.Fat;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.FileSystems.Fat;

/// <summary>Helpers for the mkfs/check tests: peer tool runs and reading the BPB of a file (fsck.fat -n: <see cref="FatTestKit.AssertFsckClean"/>).</summary>
internal static class FatMkfsKit
{
    /// <summary>mtools refuses images whose geometry does not divide the size unless told not to check.</summary>
    public static (int Code, string Out, string Err) Mtools(string tool, params string[] args)
    {
        Environment.SetEnvironmentVariable("MTOOLS_SKIP_CHECK", "1");
        return PeerTools.Run(tool, args);
    }

    /// <summary>fsck.fat -n: exit code and the output lines past the version banner.</summary>
    public static (int Code, string Output) FsckFat(string path)
    {
        var (code, stdout, stderr) = PeerTools.Run("fsck.fat", ["-n", path]);
        string all = (stdout + stderr).Replace("\r", "", StringComparison.Ordinal);
        return (code, string.Join('\n', all.Split('\n').Where(l => !l.StartsWith("fsck.fat ", StringComparison.Ordinal))));
    }

    public static FatBootSector Boot(string path)
    {
        var sector = new byte[512];
        using (var f = File.OpenRead(path)) f.ReadExactly(sector);
        Assert.True(FatBootSector.TryRead(sector, out var boot, out string? error), error);
        return boot;
    }

    /// <summary>Our checker on a raw file or a byte range of it.</summary>
    public static ImageCheckResult Check(string path, long offset = 0, long? length = null)
    {
        using var image = ImageOpener.Default.Open(path);
        using var range = new SubRangeDevice(image, offset, length ?? image.Length - offset);
        return FatChecker.Check(range);
    }

    /// <summary>Copies bytes [offset, offset+length) of a file to a new file (a partition for fsck.fat, which takes no offset).</summary>
    public static string Extract(TempDir dir, string path, long offset, long length, string name)
    {
        string target = dir.File(name);
        using var src = File.OpenRead(path);
        using var dst = File.Create(target);
        src.Position = offset;
        var buffer = new byte[1 << 20];
        long left = length;
        while (left > 0)
        {
            int n = src.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0) break;
            if (buffer.AsSpan(0, n).IndexOfAnyExcept((byte)0) >= 0) dst.Write(buffer, 0, n);
            else dst.Seek(n, SeekOrigin.Current);
            left -= n;
        }
        dst.SetLength(length);
        return target;
    }
}
