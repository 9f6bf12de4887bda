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

    private const uint TypeMask = 0xF000, TypeRegular = 0x8000, TypeBlock = 0x6000;

    /// <summary>
    /// False when <paramref name="path"/> exists and is neither a regular file nor a block device
    /// (a directory, FIFO, socket or character device, whose open or read could block or fail);
    /// true otherwise, including when the type cannot be told.
    /// </summary>
    public static bool IsFileOrBlockDevice(string path)
    {
        int modeOffset = RuntimeInformation.ProcessArchitecture switch { Architecture.X64 => 24, Architecture.Arm64 => 16, _ => -1 };
        if (!OperatingSystem.IsLinux() || modeOffset < 0) return true;
        var buf = new byte[256];
        try
        {
            if (Stat(path, buf) != 0) return true;
        }
        catch (EntryPointNotFoundException) { return true; }
        uint type = BitConverter.ToUInt32(buf, modeOffset) & TypeMask;
        return type is TypeRegular or TypeBlock;
    }
}
