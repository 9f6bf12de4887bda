using System.Diagnostics;

namespace Discemu.Tests.Conformance;

/// <summary>
/// Whether the file system under the temp folder can punch holes and report them. Probed once with
/// util-linux fallocate (independent of the code under test), so file-backed conformance subclasses
/// only promise hole behaviour where the host provides it.
/// </summary>
public static class SparseFiles
{
    private static readonly Lazy<bool> Probe = new(() =>
    {
        string file = Path.Combine(Path.GetTempPath(), "discemu-sparse-probe-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            File.WriteAllBytes(file, new byte[1 << 20].Select(_ => (byte)0x5A).ToArray());
            var psi = new ProcessStartInfo("fallocate", ["--punch-hole", "--offset", "0", "--length", "524288", file])
            { RedirectStandardError = true, RedirectStandardOutput = true };
            using var p = Process.Start(psi);
            if (p is null || !p.WaitForExit(30_000) || p.ExitCode != 0) return false;
            var info = new FileInfo(file);
            return info.Length == 1 << 20 && File.ReadAllBytes(file).AsSpan(0, 524288).IndexOfAnyExcept((byte)0) < 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
        finally { File.Delete(file); }
    });

    /// <summary>True when hole punching works in the temp folder.</summary>
    public static bool Supported => Probe.Value;

    /// <summary>The given expectations when holes work on this host, else none of the hole-related ones.</summary>
    public static DeviceExpectations IfSupported(DeviceExpectations e) => Supported ? e : DeviceExpectations.None;
}
