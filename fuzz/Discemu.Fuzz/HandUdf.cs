using System.Buffers.Binary;
using System.Text;

namespace Discemu.Fuzz;

/// <summary>How a <see cref="HandUdfNode"/>'s content is stored.</summary>
internal enum HandUdfStorage
{
    /// <summary>One recorded extent (directories and files).</summary>
    Extent,
    /// <summary>Inside the file entry (ECMA-167 4/14.9, allocation descriptor type 3).</summary>
    Embedded,
    /// <summary>Two recorded extents around an unrecorded one, the last continued in an allocation extent descriptor.</summary>
    Split,
    /// <summary>One recorded extent described by an extended allocation descriptor (ECMA-167 4/14.14.3).</summary>
    ExtendedAd,
}

/// <summary>A file, directory, symbolic link or hard link of a hand-made UDF image (see <see cref="HandUdf"/>).</summary>
internal sealed class HandUdfNode
{
    public required string Name { get; init; }
    public bool Directory { get; init; }
    public byte[] Content { get; init; } = [];
    public string? SymlinkTarget { get; init; }
    /// <summary>A second name of this other node (a hard link: same ICB).</summary>
    public HandUdfNode? LinkOf { get; init; }
    public HandUdfStorage Storage { get; init; } = HandUdfStorage.Extent;
    public int Mode { get; init; } = 0x1A4; // 0644
    public uint Uid { get; init; } = 1000;
    public uint Gid { get; init; } = 100;
    public DateTimeOffset Time { get; init; } = new(2021, 3, 4, 5, 6, 7, TimeSpan.FromMinutes(60));
    public byte Characteristics { get; init; }
    public List<HandUdfNode> Children { get; } = [];

    internal uint Icb;
    internal uint ContentBlock;      // directories: in the metadata space; files: in the physical partition
    internal uint AedBlock;
    internal byte[] Fids = [];
    internal int Links = 1;
    internal ulong UniqueId;

    public static HandUdfNode File(string name, byte[] content, HandUdfStorage storage = HandUdfStorage.Extent) => new() { Name = name, Content = content, Storage = storage };
    public static HandUdfNode Dir(string name, params HandUdfNode[] children)
    {
        var d = new HandUdfNode { Name = name, Directory = true, Mode = 0x1ED };
        d.Children.AddRange(children);
        return d;
    }
}

/// <summary>
/// Builds small UDF images byte by byte from ECMA-167 3rd edition and OSTA UDF 2.60, for tests and fuzz seeds
/// (mkudffs makes empty volumes only, and without a metadata partition). Layout: the recognition sequence at 32 KiB,
/// the main volume descriptor sequence at 64 KiB, the reserve one 16 sectors later, the integrity descriptor
/// 16 sectors after that, anchors at 256 and N-1, one partition from 257. UDF 2.50 and later put the file set,
/// file entries and directories in a metadata partition (metadata file at partition block 0, mirror at 1).
/// </summary>
internal sealed partial class HandUdf
{
    private const uint PartitionStart = 257;
    private uint MainVds => (uint)(65536 / SectorSize); // after the recognition sequence, whatever the sector size
    private uint ReserveVds => MainVds + 16;
    private uint IntegritySector => MainVds + 32;

    public HandUdfNode Root { get; } = HandUdfNode.Dir("");
    public ushort Revision { get; init; } = 0x0250;
    public int SectorSize { get; init; } = 2048;
    public string VolumeId { get; init; } = "HANDUDF";
    public string LogicalVolumeId { get; init; } = "Hand made UDF";
    public string FileSetId { get; init; } = "HANDFS";
    /// <summary>Damage the main metadata file entry so the reader must use the mirror.</summary>
    public bool BreakMetadataFile { get; init; }
    /// <summary>Damage the main volume descriptor sequence so the reader must use the reserve one.</summary>
    public bool BreakMainSequence { get; init; }

    /// <summary>Seeds for the <c>udf</c> fuzz target: every layout the builder makes, on small sectors to keep them short.</summary>
    public static IEnumerable<(string Target, string Name, byte[] Data)> Seeds()
    {
        foreach (ushort revision in new ushort[] { 0x0102, 0x0201, 0x0250 })
        {
            var udf = new HandUdf { Revision = revision, SectorSize = 512 };
            var text = HandUdfNode.File("readme.txt", "seed\n"u8.ToArray(), HandUdfStorage.Embedded);
            var split = new byte[1600];
            for (int i = 0; i < split.Length; i++) split[i] = i is >= 512 and < 1024 ? (byte)0 : (byte)(i * 7);
            udf.Root.Children.AddRange(
            [
                text,
                HandUdfNode.File("data.bin", [.. Enumerable.Range(0, 1500).Select(i => (byte)i)]),
                new HandUdfNode { Name = "split.bin", Content = split, Storage = HandUdfStorage.Split },
                new HandUdfNode { Name = "ünï 日本", SymlinkTarget = "../a/./b" },
                new HandUdfNode { Name = "hard", LinkOf = text },
                HandUdfNode.Dir("dir", HandUdfNode.File("inner", "x"u8.ToArray()), HandUdfNode.Dir("sub")),
            ]);
            yield return ("udf", $"hand-{revision:x4}", udf.Build());
        }
    }

    private bool Metadata => Revision >= 0x0250;
    private bool Extended => Revision >= 0x0200;
    private int Bs => SectorSize;

    public byte[] Build()
    {
        // Metadata space (the metadata partition, or the physical one before 2.50): FSD, then ICBs and directories.
        var nodes = new List<HandUdfNode>();
        void Collect(HandUdfNode n) { nodes.Add(n); foreach (var c in n.Children) Collect(c); }
        Collect(Root);
        uint meta = 1; // block 0: the file set descriptor
        ulong unique = 16;
        foreach (var n in nodes)
        {
            if (n.LinkOf is not null) continue;
            n.Icb = meta++;
            n.UniqueId = n == Root ? 0 : unique++;
            if (n.Storage == HandUdfStorage.Split) n.AedBlock = meta++;
        }
        foreach (var n in nodes) if (n.LinkOf is { } target && (n.Characteristics & 4) == 0) target.Links++;
        foreach (var n in nodes.Where(n => n.Directory))
        {
            n.Fids = DirectoryBytes(n, 0);
            n.ContentBlock = meta;
            meta += Blocks(n.Fids.Length);
            n.Links += n.Children.Count(c => c.Directory);
        }
        uint metaBlocks = meta;
        uint physical = Metadata ? 2 + 2 * metaBlocks : metaBlocks; // metadata and mirror file entries, then both copies
        foreach (var n in nodes.Where(n => !n.Directory && n.LinkOf is null && n.Storage != HandUdfStorage.Embedded))
        {
            n.ContentBlock = physical;
            physical += Blocks(n.Content.Length) + (n.Storage == HandUdfStorage.Split ? 1u : 0);
        }
        uint partitionLength = physical + 16;
        long sectors = PartitionStart + partitionLength + 1;
        var image = new byte[sectors * Bs];

        WriteRecognition(image);
        PendingAeds.Clear();
        var metaSpace = new byte[metaBlocks * Bs];
        WriteFileSet(metaSpace.AsSpan(0, Bs));
        foreach (var n in nodes.Where(n => n.LinkOf is null))
        {
            WriteFileEntry(metaSpace.AsSpan((int)(n.Icb * Bs), Bs), n);
            if (n.Directory)
            {
                var fids = DirectoryBytes(n, n.ContentBlock);
                fids.CopyTo(metaSpace.AsSpan((int)(n.ContentBlock * Bs)));
            }
        }
        foreach (var (block, aed) in PendingAeds) aed.CopyTo(metaSpace.AsSpan((int)(block * Bs)));
        long partitionByte = PartitionStart * (long)Bs;
        if (Metadata)
        {
            metaSpace.CopyTo(image.AsSpan((int)(partitionByte + 2L * Bs)));
            metaSpace.CopyTo(image.AsSpan((int)(partitionByte + (2L + metaBlocks) * Bs)));
            WriteMetadataFile(image.AsSpan((int)partitionByte, Bs), 0, 250, 2, metaBlocks);
            WriteMetadataFile(image.AsSpan((int)(partitionByte + Bs), Bs), 1, 251, 2 + metaBlocks, metaBlocks);
            if (BreakMetadataFile) image[partitionByte + 4] ^= 0xFF; // the tag checksum fails
        }
        else metaSpace.CopyTo(image.AsSpan((int)partitionByte));
        foreach (var n in nodes.Where(n => !n.Directory && n.LinkOf is null && n.Storage != HandUdfStorage.Embedded))
        {
            long at = partitionByte + (long)n.ContentBlock * Bs;
            if (n.Storage == HandUdfStorage.Split)
            {
                int first = SplitFirst(n);
                n.Content.AsSpan(0, first).CopyTo(image.AsSpan((int)at));
                n.Content.AsSpan(2 * Bs).CopyTo(image.AsSpan((int)(at + 2 * Bs))); // after the unrecorded block
            }
            else n.Content.CopyTo(image.AsSpan((int)at));
        }

        WriteSequence(image, MainVds, partitionLength, metaBlocks);
        WriteSequence(image, ReserveVds, partitionLength, metaBlocks);
        if (BreakMainSequence) image[MainVds * Bs + 4] ^= 0xFF;
        WriteIntegrity(image.AsSpan((int)(IntegritySector * Bs), Bs), partitionLength, metaBlocks, nodes);
        WriteAnchor(image.AsSpan(256 * Bs, Bs), 256);
        WriteAnchor(image.AsSpan((int)((sectors - 1) * Bs), Bs), (uint)(sectors - 1));
        return image;
    }

    private uint Blocks(long bytes) => (uint)((bytes + Bs - 1) / Bs);

    /// <summary>A split file: the first extent, then one block that is allocated but unrecorded (reads as zeros), then the rest.</summary>
    private int SplitFirst(HandUdfNode n)
    {
        if (n.Content.Length <= 2 * Bs || n.Content.AsSpan(Bs, Bs).IndexOfAnyExcept((byte)0) >= 0)
            throw new InvalidOperationException("A split file needs more than two blocks, the second all zeros.");
        return Bs;
    }

    private void WriteRecognition(byte[] image)
    {
        int stride = Math.Max(2048, Bs);
        string nsr = Revision >= 0x0200 ? "NSR03" : "NSR02";
        string[] ids = ["BEA01", nsr, "TEA01"];
        for (int i = 0; i < ids.Length; i++)
        {
            var d = image.AsSpan(32768 + i * stride, 7);
            d[0] = 0;
            Encoding.ASCII.GetBytes(ids[i]).CopyTo(d[1..]);
            d[6] = 1;
        }
    }

    private void WriteAnchor(Span<byte> b, uint sector)
    {
        Extent(b[16..], 16u * (uint)Bs, MainVds);
        Extent(b[24..], 16u * (uint)Bs, ReserveVds);
        Tag(b, 2, sector, 512);
    }

    private void WriteSequence(byte[] image, uint start, uint partitionLength, uint metaBlocks)
    {
        uint s = start;
        Span<byte> Next() => image.AsSpan((int)(s * Bs), Bs);

        var pvd = Next();
        U32(pvd[16..], 1);
        DString(pvd.Slice(24, 32), VolumeId);
        U16(pvd[56..], 1); U16(pvd[58..], 1); U16(pvd[60..], 2); U16(pvd[62..], 3);
        U32(pvd[64..], 1); U32(pvd[68..], 1);
        DString(pvd.Slice(72, 128), "0123456789ABCDEFHand volume set");
        CharSpec(pvd[200..]); CharSpec(pvd[264..]);
        Regid(pvd[344..], "*Discemu");
        Time(pvd[376..], new DateTimeOffset(2022, 1, 2, 3, 4, 5, TimeSpan.Zero));
        Regid(pvd[388..], "*Discemu HandUdf");
        Tag(pvd, 1, s++, 512);

        var iuvd = Next();
        U32(iuvd[16..], 2);
        Regid(iuvd[20..], "*UDF LV Info", Revision);
        CharSpec(iuvd[52..]);
        DString(iuvd.Slice(116, 128), LogicalVolumeId);
        Regid(iuvd[352..], "*Discemu HandUdf");
        Tag(iuvd, 4, s++, 512);

        var pd = Next();
        U32(pd[16..], 3);
        U16(pd[20..], 1);
        U16(pd[22..], 0);
        Regid(pd[24..], Extended ? "+NSR03" : "+NSR02");
        U32(pd[184..], 1);
        U32(pd[188..], PartitionStart);
        U32(pd[192..], partitionLength);
        Regid(pd[196..], "*Discemu HandUdf");
        Tag(pd, 5, s++, 512);

        var lvd = Next();
        U32(lvd[16..], 4);
        CharSpec(lvd[20..]);
        DString(lvd.Slice(84, 128), LogicalVolumeId);
        U32(lvd[212..], (uint)Bs);
        Regid(lvd[216..], "*OSTA UDF Compliant", Revision);
        LongAd(lvd[248..], (uint)Bs, 0, Metadata ? (ushort)1 : (ushort)0);
        int mapLength = 6 + (Metadata ? 64 : 0);
        U32(lvd[264..], (uint)mapLength);
        U32(lvd[268..], Metadata ? 2u : 1u);
        Regid(lvd[272..], "*Discemu HandUdf");
        Extent(lvd[432..], (uint)Bs, IntegritySector);
        var map = lvd[440..];
        map[0] = 1; map[1] = 6; U16(map[2..], 1); U16(map[4..], 0);
        if (Metadata)
        {
            var m = map[6..];
            m[0] = 2; m[1] = 64;
            Regid(m[4..], "*UDF Metadata Partition", Revision);
            U16(m[36..], 1); U16(m[38..], 0);
            U32(m[40..], 0); U32(m[44..], 1); U32(m[48..], 0xFFFFFFFF);
            U32(m[52..], 32); U16(m[56..], 1);
        }
        Tag(lvd, 6, s++, 440 + mapLength);

        var usd = Next();
        U32(usd[16..], 5);
        Tag(usd, 7, s++, 24);
        Tag(Next(), 8, s, 512);
    }

    private void WriteIntegrity(Span<byte> b, uint partitionLength, uint metaBlocks, List<HandUdfNode> nodes)
    {
        Time(b[16..], new DateTimeOffset(2022, 1, 2, 3, 4, 5, TimeSpan.Zero));
        U32(b[28..], 1); // closed
        U64(b[40..], 16 + (ulong)nodes.Count);
        int maps = Metadata ? 2 : 1;
        U32(b[72..], (uint)maps);
        U32(b[76..], 46);
        int at = 80;
        for (int i = 0; i < maps; i++) { U32(b[at..], 0); at += 4; }
        U32(b[at..], partitionLength); at += 4;
        if (Metadata) { U32(b[at..], metaBlocks); at += 4; }
        Regid(b[at..], "*Discemu HandUdf");
        U32(b[(at + 32)..], (uint)nodes.Count(n => !n.Directory && n.LinkOf is null));
        U32(b[(at + 36)..], (uint)nodes.Count(n => n.Directory));
        U16(b[(at + 40)..], Revision); U16(b[(at + 42)..], Revision); U16(b[(at + 44)..], Revision);
        Tag(b, 9, IntegritySector, at + 46);
    }

    private void WriteFileSet(Span<byte> b)
    {
        Time(b[16..], new DateTimeOffset(2022, 1, 2, 3, 4, 5, TimeSpan.Zero));
        U16(b[28..], 3); U16(b[30..], 3); U32(b[32..], 1); U32(b[36..], 1);
        CharSpec(b[48..]);
        DString(b.Slice(112, 128), LogicalVolumeId);
        CharSpec(b[240..]);
        DString(b.Slice(304, 32), FileSetId);
        LongAd(b[400..], (uint)Bs, Root.Icb, Metadata ? (ushort)1 : (ushort)0);
        Regid(b[416..], "*OSTA UDF Compliant", Revision);
        Tag(b, 256, 0, 512);
    }

    /// <summary>A metadata (250) or mirror (251) file entry covering <paramref name="blocks"/> blocks from <paramref name="start"/>.</summary>
    private void WriteMetadataFile(Span<byte> b, uint location, byte type, uint start, uint blocks)
    {
        var ads = new byte[8];
        U32(ads, blocks * (uint)Bs);
        U32(ads.AsSpan(4), start);
        FileEntry(b, location, type, 0, 0, 0, 1, (ulong)blocks * (uint)Bs, blocks, new DateTimeOffset(2022, 1, 2, 3, 4, 5, TimeSpan.Zero), 0, 0, ads);
    }

    private void WriteFileEntry(Span<byte> b, HandUdfNode n)
    {
        byte type = n.Directory ? (byte)4 : n.SymlinkTarget is not null ? (byte)12 : (byte)5;
        byte[] content = n.Directory ? n.Fids : n.SymlinkTarget is { } t ? PathComponents(t) : n.Content;
        uint permissions = (uint)((n.Mode & 7) | ((n.Mode >> 3) & 7) << 5 | ((n.Mode >> 6) & 7) << 10);
        byte[] ads;
        int adType;
        // Directories and files in the metadata space use short ADs; file data in the physical partition needs long ADs when there is a metadata partition.
        bool dataInPhysical = !n.Directory && Metadata;
        if (n.Storage == HandUdfStorage.Embedded || n.SymlinkTarget is not null)
        {
            ads = content;
            adType = 3;
        }
        else if (n.Storage == HandUdfStorage.Split)
        {
            int first = SplitFirst(n);
            uint rest = (uint)(content.Length - first - Bs);
            ads = new byte[16 * 2];
            LongAd(ads, (uint)first, n.ContentBlock, 0);
            LongAd(ads.AsSpan(16), (3u << 30) | (uint)Bs, n.AedBlock, Metadata ? (ushort)1 : (ushort)0);
            var aed = new byte[Bs];
            LongAd(aed.AsSpan(24), (1u << 30) | (uint)Bs, n.ContentBlock + 1, 0); // allocated, not recorded: zeros
            LongAd(aed.AsSpan(40), rest, n.ContentBlock + 2, 0);
            U32(aed.AsSpan(20), 32);
            Tag(aed, 258, n.AedBlock, 24 + 32);
            PendingAeds.Add((n.AedBlock, aed));
            adType = 1;
        }
        else if (n.Storage == HandUdfStorage.ExtendedAd)
        {
            ads = new byte[20];
            U32(ads, (uint)content.Length);
            U32(ads.AsSpan(4), (uint)content.Length);
            U32(ads.AsSpan(8), (uint)content.Length);
            U32(ads.AsSpan(12), n.ContentBlock);
            U16(ads.AsSpan(16), 0);
            adType = 2;
        }
        else if (dataInPhysical)
        {
            ads = new byte[16];
            LongAd(ads, (uint)content.Length, n.ContentBlock, 0);
            adType = 1;
        }
        else
        {
            ads = new byte[8];
            U32(ads, (uint)content.Length);
            U32(ads.AsSpan(4), n.ContentBlock);
            adType = 0;
        }
        if (content.Length == 0 && adType != 3) ads = [];
        FileEntry(b, n.Icb, type, n.Uid, n.Gid, permissions, (ushort)n.Links, (ulong)content.Length, Blocks(content.Length), n.Time, adType, n.UniqueId, ads);
    }

    private List<(uint Block, byte[] Data)> PendingAeds { get; } = [];

    private void FileEntry(Span<byte> b, uint location, byte type, uint uid, uint gid, uint permissions, ushort links, ulong size, ulong blocks,
        DateTimeOffset time, int adType, ulong uniqueId, ReadOnlySpan<byte> ads)
    {
        U16(b[20..], 4); U16(b[24..], 1);
        b[27] = type;
        U16(b[34..], (ushort)adType);
        U32(b[36..], uid); U32(b[40..], gid); U32(b[44..], permissions);
        U16(b[48..], links);
        U64(b[56..], size);
        int fixedSize;
        if (Extended)
        {
            U64(b[64..], size);
            U64(b[72..], blocks);
            Time(b[80..], time); Time(b[92..], time); Time(b[104..], time.AddDays(-1)); Time(b[116..], time.AddHours(1));
            U32(b[128..], 1);
            Regid(b[168..], "*Discemu HandUdf");
            U64(b[200..], uniqueId);
            fixedSize = 216;
        }
        else
        {
            U64(b[64..], blocks);
            Time(b[72..], time); Time(b[84..], time); Time(b[96..], time.AddHours(1));
            U32(b[108..], 1);
            Regid(b[128..], "*Discemu HandUdf");
            U64(b[160..], uniqueId);
            fixedSize = 176;
        }
        U32(b[(fixedSize - 4)..], (uint)ads.Length);
        ads.CopyTo(b[fixedSize..]);
        Tag(b, Extended ? (ushort)266 : (ushort)261, location, fixedSize + ads.Length);
    }

    /// <summary>The file identifier descriptors of a directory: the parent entry, then one per child.</summary>
    private byte[] DirectoryBytes(HandUdfNode dir, uint firstBlock)
    {
        var parent = FindParent(Root, dir) ?? dir;
        var ms = new MemoryStream();
        Fid(ms, "", 0x0A, parent.Icb, parent.UniqueId, firstBlock);
        foreach (var c in dir.Children)
        {
            var target = c.LinkOf ?? c;
            byte flags = (byte)(c.Characteristics | (target.Directory ? 2 : 0));
            Fid(ms, c.Name, flags, target.Icb, target.UniqueId, firstBlock);
        }
        return ms.ToArray();
    }

    private static HandUdfNode? FindParent(HandUdfNode from, HandUdfNode child)
    {
        foreach (var c in from.Children)
        {
            if (ReferenceEquals(c, child)) return from;
            if (FindParent(c, child) is { } p) return p;
        }
        return null;
    }

    private void Fid(MemoryStream ms, string name, byte flags, uint icb, ulong uniqueId, uint firstBlock)
    {
        byte[] id = name.Length == 0 ? [] : Cs0(name);
        int length = (38 + id.Length + 3) & ~3;
        var f = new byte[length];
        U16(f.AsSpan(16), 1);
        f[18] = flags;
        f[19] = (byte)id.Length;
        LongAd(f.AsSpan(20), (uint)Bs, icb, Metadata ? (ushort)1 : (ushort)0);
        U32(f.AsSpan(20 + 10), (uint)uniqueId); // UDF unique id in the ICB's implementation use (UDF 2.60 2.3.4.3)
        id.CopyTo(f.AsSpan(38));
        Tag(f, 257, firstBlock + (uint)(ms.Length / Bs), length - 16);
        ms.Write(f);
    }

    private static byte[] PathComponents(string target)
    {
        var ms = new MemoryStream();
        var parts = target.Split('/');
        if (target.StartsWith('/')) { ms.Write([2, 0, 0, 0]); parts = parts[1..]; }
        foreach (var p in parts.Where(p => p.Length > 0))
        {
            byte[] id = p switch { ".." or "." => [], _ => Cs0(p) };
            byte type = p switch { ".." => 3, "." => 4, _ => 5 };
            ms.Write([type, (byte)id.Length, 0, 0]);
            ms.Write(id);
        }
        return ms.ToArray();
    }
}
