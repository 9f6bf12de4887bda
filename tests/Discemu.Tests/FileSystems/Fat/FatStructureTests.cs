using System.Buffers.Binary;
using System.Text;
using Discemu.Block;
using Discemu.FileSystems;
using Discemu.FileSystems.Fat;
using Discemu.Fuzz;

namespace Discemu.Tests.FileSystems.Fat;

/// <summary>The on-disk structures, names and the typed errors for damaged chains.</summary>
public sealed class FatStructureTests
{
    [Fact]
    public void ShortNameChecksumFollowsTheSpecification()
    {
        // fatgen103: rotate right by one, add the next byte. Worked by hand for "A          ".
        var name = Encoding.ASCII.GetBytes("A          ");
        byte sum = 0;
        foreach (var b in name) sum = (byte)((sum >> 1 | sum << 7) + b);
        Assert.Equal(sum, FatLfnEntry.ShortNameChecksum(name));
        Assert.NotEqual(FatLfnEntry.ShortNameChecksum(Encoding.ASCII.GetBytes("B          ")), FatLfnEntry.ShortNameChecksum(name));
    }

    [Fact]
    public void LongNameEntriesRoundTrip()
    {
        string name = "A name that takes three entries.txt";
        var parts = FatLfnEntry.Build(name, 0x5A);
        Assert.Equal(3, parts.Length);
        Assert.True(parts[0].IsLast);
        Assert.Equal(3, parts[0].Sequence);
        var buffer = new byte[32];
        var chars = new char[39];
        foreach (var p in parts)
        {
            p.Write(buffer);
            Assert.Equal(FatConstants.AttrLongName, buffer[11]);
            Assert.True(FatLfnEntry.TryRead(buffer, out var back));
            Assert.Equal(0x5A, back.Checksum);
            back.Chars.CopyTo(chars, (back.Sequence - 1) * 13);
        }
        Assert.Equal(name, new string(chars, 0, name.Length));
        Assert.Equal('\0', chars[name.Length]);
        Assert.Equal('\uFFFF', chars[^1]);
    }

    [Fact]
    public void DosTimesKeepTwoSecondsAndTenMilliseconds()
    {
        var t = new DateTimeOffset(2024, 2, 29, 23, 59, 59, 990, TimeSpan.Zero);
        var (date, time, tenths) = DosDateTime.FromDateTime(t);
        Assert.Equal(199, tenths);
        Assert.Equal(t, DosDateTime.ToDateTime(date, time, tenths));
        Assert.Equal(t.AddMilliseconds(-1990), DosDateTime.ToDateTime(date, time, 0));
        Assert.Equal(DosDateTime.Min, DosDateTime.ToDateTime(DosDateTime.FromDateTime(new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero)).Date, 0, 0));
        Assert.Null(DosDateTime.ToDateTime(0, 0, 0));
        Assert.Null(DosDateTime.ToDateTime((ushort)(44 << 9 | 2 << 5 | 30), 0, 0)); // 30 February
    }

    [Theory]
    [InlineData("README.TXT", "README  TXT", 0)]
    [InlineData("readme.txt", "README  TXT", 0x18)]
    [InlineData("readme.TXT", "README  TXT", 0x08)]
    [InlineData("Makefile", null, 0)]
    [InlineData("a.b.c", null, 0)]
    [InlineData("toolongname.txt", null, 0)]
    [InlineData("x+y.txt", null, 0)]
    public void ExactShortNamesUseTheCaseFlags(string name, string? stored, byte flags)
    {
        var exact = ShortNames.TryExact(name);
        if (stored is null) { Assert.Null(exact); return; }
        Assert.Equal(stored, Encoding.ASCII.GetString(exact!.Value.Name));
        Assert.Equal(flags, exact.Value.NtFlags);
        Assert.Equal(name, ShortNames.Display(exact.Value.Name, flags));
    }

    [Fact]
    public void AliasesAvoidClashes()
    {
        var taken = new HashSet<string>();
        string Next(string n)
        {
            var alias = ShortNames.GenerateAlias(n, taken.Contains);
            var key = ShortNames.Key(alias);
            Assert.True(taken.Add(key));
            return key;
        }
        Assert.Equal("MAKEFILE   ", Next("Makefile"));
        Assert.Equal("MAKEFI~1   ", Next("makefile"));
        Assert.Equal("ARATHE~1DOC", Next("A rather long name.document"));
        Assert.Equal("ARATHE~2DOC", Next("A rather long name 2.document"));
        Assert.Equal("X_Y~1   TXT", Next("x+y.txt"));
        for (int i = 3; i < 12; i++) Assert.Equal(i < 10 ? $"ARATHE~{i}DOC" : $"ARATH~{i}DOC", Next($"A rather long name {i}.document"));
        Assert.Equal("__~1    TXT", Next("日本.txt"));
    }

    [Fact]
    public void BootSectorRoundTripsAndRejectsNonsense()
    {
        var image = HandFat.Empty(FatType.Fat16, 8400);
        Assert.True(FatBootSector.TryRead(image, out var boot, out var error), error);
        Assert.Equal(FatType.Fat16, boot.Type);
        var copy = new byte[512];
        boot.Write(copy);
        Assert.True(copy.AsSpan().SequenceEqual(image.AsSpan(0, 512)));
        foreach (var (offset, value) in new (int, byte)[] { (11, 3), (13, 3), (14, 0), (16, 0), (22, 0) })
        {
            var bad = image.AsSpan(0, 512).ToArray();
            bad[offset] = value;
            if (offset == 14) bad[15] = 0;
            if (offset == 22) bad[23] = 0;
            Assert.False(FatBootSector.TryRead(bad, out _, out _));
        }
    }

    [Fact]
    public void ChainLoopsAndOutOfRangeClustersAreTypedErrors()
    {
        var seed = HandFat.Sample(FatType.Fat12);
        Assert.True(FatBootSector.TryRead(seed, out var boot, out _));
        long fat = (long)boot.ReservedSectors * boot.BytesPerSector;
        using (var fs = Open(seed))
        {
            var file = (FatEntry)fs.Lookup("/A very long file name indeed.text");
            Assert.True(file.FirstCluster >= 2);
            // Loop: the file's second cluster points back to the first.
            var looped = (byte[])seed.Clone();
            uint second = Get12(seed, fat, file.FirstCluster);
            Set12(looped, fat, second, file.FirstCluster);
            using var fsLoop = Open(looped);
            var ex = Assert.Throws<CorruptImageException>(() => Read(fsLoop, "/A very long file name indeed.text"));
            Assert.Contains("loops", ex.Message, StringComparison.Ordinal);
            // Out of range: the chain points past the last cluster.
            var outOfRange = (byte[])seed.Clone();
            Set12(outOfRange, fat, file.FirstCluster, 0xFF0);
            using var fsRange = Open(outOfRange);
            Assert.Throws<CorruptImageException>(() => Read(fsRange, "/A very long file name indeed.text"));
            // A writable file system refuses to extend a damaged chain with a typed error, and changes nothing.
            using var device = new MemoryDevice(looped);
            using var w = FatFileSystemType.Instance.Open(device, new FileSystemOpenOptions { Writable = true });
            Assert.Throws<CorruptImageException>(() => ((IWritableFileSystem)w).Write("/A very long file name indeed.text", 5000, [1]));
        }
    }

    private static FileSystem Open(byte[] image) => FatFileSystemType.Instance.Open(new MemoryDevice(image), new FileSystemOpenOptions());

    private static void Read(FileSystem fs, string path)
    {
        using var d = fs.OpenFile(fs.Lookup(path));
        d.Read(0, new byte[d.Length]);
    }

    private static uint Get12(byte[] img, long fat, uint c)
    {
        int v = BinaryPrimitives.ReadUInt16LittleEndian(img.AsSpan((int)(fat + c + c / 2)));
        return (uint)((c & 1) != 0 ? v >> 4 : v & 0xFFF);
    }

    private static void Set12(byte[] img, long fat, uint c, uint value)
    {
        int at = (int)(fat + c + c / 2);
        int v = BinaryPrimitives.ReadUInt16LittleEndian(img.AsSpan(at));
        v = (c & 1) != 0 ? (v & 0x000F) | (int)(value << 4) : (v & 0xF000) | (int)value;
        BinaryPrimitives.WriteUInt16LittleEndian(img.AsSpan(at), (ushort)v);
    }
}
