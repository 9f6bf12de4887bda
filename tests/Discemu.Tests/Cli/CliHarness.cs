using Discemu.Formats;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Cli;

/// <summary>Runs the CLI in-process and builds sparse raw files for the command tests.</summary>
internal static class CliHarness
{
    /// <summary>Runs <c>discemu</c> with <paramref name="args"/>; returns exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Discemu.Cli.Cli.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Asserts an error run: non-zero exit, nothing on stdout, exactly one "discemu: ..." line on stderr (plus an optional usage hint) and no stack trace.</summary>
    public static string AssertOneLineError((int Code, string Out, string Err) result, int expectedCode = 1)
    {
        Assert.Equal(expectedCode, result.Code);
        var lines = result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(lines.Length, 1, 2);
        Assert.StartsWith("discemu: ", lines[0]);
        if (lines.Length == 2) Assert.StartsWith("Try 'discemu --help'", lines[1]);
        Assert.DoesNotContain("   at ", result.Err);
        return lines[0];
    }

    /// <summary>Creates a sparse file of <paramref name="size"/> bytes with <paramref name="chunks"/> of random data written at the given offsets.</summary>
    public static string SparseRaw(TempDir dir, string name, long size, params (long Offset, int Length)[] chunks)
    {
        string path = dir.File(name);
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        fs.SetLength(size);
        var rng = new Random(name.GetHashCode(StringComparison.Ordinal) ^ chunks.Length);
        foreach (var (offset, length) in chunks)
        {
            var data = new byte[length];
            rng.NextBytes(data);
            fs.Position = offset;
            fs.Write(data);
        }
        return path;
    }

    /// <summary>SHA-256 of a file's bytes.</summary>
    public static string Sha256(string path)
    {
        using var fs = File.OpenRead(path);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(fs));
    }

}
