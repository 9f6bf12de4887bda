using System.Runtime.InteropServices;

namespace Discemu.Util;

/// <summary>Facts about files on the host that .NET does not expose directly.</summary>
internal static partial class HostFile
{
    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, byte[] buf);

    /// <summary>Bytes allocated to the file on disk (st_blocks × 512), or null when unknown.</summary>
    public static long? AllocatedBytes(string path)
    {
        // st_blocks sits at offset 64 of struct stat on both x86_64 and the generic (arm64) layout.
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64)) return null;
        var buf = new byte[256];
        try
        {
            if (Stat(path, buf) != 0) return null;
        }
        catch (EntryPointNotFoundException) { return null; }
        return BitConverter.ToInt64(buf, 64) * 512;
    }
}
