using System.Diagnostics;

namespace Discemu.Fuse;

/// <summary>Mounting and unmounting for users other than root, through fusermount3.</summary>
internal static class FuseMounter
{
    /// <summary>
    /// Mounting without root: fusermount3 hands the /dev/fuse descriptor back over a unix socket
    /// (<c>_FUSE_COMMFD</c>, SCM_RIGHTS). Not implemented yet: refused with a typed error.
    /// </summary>
    /// <exception cref="UnsupportedFeatureException">Always.</exception>
    public static int MountWithFusermount(string mountPoint, FuseMountOptions options, bool writable)
        => throw new UnsupportedFeatureException("Mounting needs root here (the fusermount3 route for other users is not implemented yet).", mountPoint);

    /// <summary>Runs <c>fusermount3 -u [-z] MOUNTPOINT</c>.</summary>
    /// <exception cref="ImageAccessException">fusermount3 is missing or fails.</exception>
    public static void FusermountUnmount(string mountPoint, bool lazy)
    {
        var psi = new ProcessStartInfo("fusermount3") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-u");
        if (lazy) psi.ArgumentList.Add("-z");
        psi.ArgumentList.Add(mountPoint);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new ImageAccessException("Cannot run fusermount3.", mountPoint);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ImageAccessException($"Cannot run fusermount3: {e.Message}", mountPoint, e);
        }
        using (p)
        {
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new ImageAccessException($"fusermount3 -u failed: {err.Trim()}", mountPoint);
        }
    }
}
