using System.Text;
using Discemu.Block;
using Discemu.FileSystems;
using Discemu.FileSystems.Fat;

namespace Discemu.Fuzz;

/// <summary>Small FAT images built in memory (a BPB written from <see cref="FatBootSector"/>, content added through the FAT driver), for seeds and tests.</summary>
internal static class HandFat
{
    /// <summary>An empty FAT volume of <paramref name="totalSectors"/> 512-byte sectors of the given type.</summary>
    public static byte[] Empty(FatType type, int totalSectors, int sectorsPerCluster = 1, int rootEntries = 64)
    {
        const int bps = 512;
        bool fat32 = type == FatType.Fat32;
        int reserved = fat32 ? 32 : 1;
        int root = fat32 ? 0 : rootEntries;
        int rootSectors = root * 32 / bps;
        // FAT size: iterate until the FAT holds every cluster.
        long fatSize = 1;
        while (true)
        {
            long clusters = (totalSectors - reserved - 2 * fatSize - rootSectors) / sectorsPerCluster;
            if (FatTypes.FatBytes(type, clusters + 2) <= fatSize * bps) break;
            fatSize++;
        }
        var boot = new FatBootSector
        {
            Jump = [0xEB, fat32 ? (byte)0x58 : (byte)0x3C, 0x90],
            OemName = Encoding.ASCII.GetBytes("DISCEMU "),
            BytesPerSector = bps,
            SectorsPerCluster = sectorsPerCluster,
            ReservedSectors = reserved,
            NumberOfFats = 2,
            RootEntryCount = root,
            TotalSectors16 = totalSectors < 65536 && !fat32 ? totalSectors : 0,
            TotalSectors32 = totalSectors < 65536 && !fat32 ? 0u : (uint)totalSectors,
            Media = 0xF8,
            FatSize16 = fat32 ? 0 : (int)fatSize,
            FatSize32 = fat32 ? (uint)fatSize : 0,
            SectorsPerTrack = 32,
            NumberOfHeads = 64,
            RootCluster = fat32 ? 2u : 0,
            FsInfoSector = fat32 ? 1 : 0,
            BackupBootSector = fat32 ? 6 : 0,
            DriveNumber = 0x80,
            ExtendedSignature = FatConstants.ExtendedBootSignature,
            VolumeId = 0x12345678,
            VolumeLabel = Encoding.ASCII.GetBytes("NO NAME    "),
            FileSystemTypeLabel = Encoding.ASCII.GetBytes(fat32 ? "FAT32   " : type == FatType.Fat12 ? "FAT12   " : "FAT16   "),
        };
        if (boot.Validate() is { } error) throw new ArgumentException(error);
        if (boot.Type != type) throw new ArgumentException($"{totalSectors} sectors make {boot.Type}, not {type}.");
        var image = new byte[(long)totalSectors * bps];
        boot.Write(image);
        if (fat32)
        {
            boot.Write(image.AsSpan(6 * bps));
            new FatFsInfo((uint)boot.ClusterCount - 1, 3).Write(image.AsSpan(bps));
            new FatFsInfo((uint)boot.ClusterCount - 1, 3).Write(image.AsSpan(7 * bps));
        }
        for (int f = 0; f < 2; f++)
        {
            long at = (reserved + f * fatSize) * bps;
            switch (type)
            {
                case FatType.Fat12: image[at] = 0xF8; image[at + 1] = 0xFF; image[at + 2] = 0xFF; break;
                case FatType.Fat16: image[at] = 0xF8; image[at + 1] = 0xFF; image[at + 2] = 0xFF; image[at + 3] = 0xFF; break;
                default:
                    BitConverter.GetBytes(0x0FFFFFF8u).CopyTo(image, at);
                    BitConverter.GetBytes(0x0FFFFFFFu).CopyTo(image, at + 4);
                    BitConverter.GetBytes(0x0FFFFFFFu).CopyTo(image, at + 8); // root directory cluster
                    break;
            }
        }
        return image;
    }

    /// <summary>A small volume holding long, Unicode and case-only names, a deep tree, an empty and a multi-cluster file, and a label.</summary>
    public static byte[] Sample(FatType type)
    {
        var image = Empty(type, type switch { FatType.Fat12 => 400, FatType.Fat16 => 4200 * 1 + 100, _ => 67_000 });
        using var device = new MemoryDevice(image);
        device.Read(0, image.AsSpan(0, 512));
        using (var fs = FatFileSystemType.Instance.Open(device, new FileSystemOpenOptions { Writable = true }))
        {
            var w = (IWritableFileSystem)fs;
            w.SetLabel("SEED");
            w.CreateDirectory("/a");
            w.CreateDirectory("/a/b");
            w.CreateDirectory("/a/b/c");
            w.CreateFile("/a/b/c/deep.txt");
            w.Write("/a/b/c/deep.txt", 0, "deep\n"u8);
            w.CreateFile("/A very long file name indeed.text");
            w.Write("/A very long file name indeed.text", 0, Enumerable.Range(0, 2000).Select(i => (byte)i).ToArray());
            w.CreateFile("/ünïcödé.txt");
            w.Write("/ünïcödé.txt", 0, "unicode\n"u8);
            w.CreateFile("/lower.txt");
            w.CreateFile("/empty");
            w.Flush();
        }
        // FAT32 needs 65525 clusters (32 MiB); the seed keeps the metadata and the first clusters only (reads past it fail typed).
        var boot = FatBootSector.TryRead(image, out var b, out _) ? b : throw new InvalidOperationException("The seed's boot sector is invalid.");
        long keep = type == FatType.Fat32 ? (boot.FirstDataSector + 64L * boot.SectorsPerCluster) * boot.BytesPerSector : device.Length;
        var result = new byte[keep];
        device.Read(0, result);
        return result;
    }
}
