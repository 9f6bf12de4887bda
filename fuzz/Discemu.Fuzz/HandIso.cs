using System.Buffers.Binary;
using System.Text;

namespace Discemu.Fuzz;

/// <summary>A file or directory of a hand-made ISO image (see <see cref="HandIso"/>).</summary>
internal sealed class HandNode
{
    /// <summary>The file identifier bytes as recorded (e.g. "README.TXT;1").</summary>
    public required byte[] Identifier { get; init; }
    public bool Directory { get; init; }
    public byte[] Content { get; init; } = [];
    /// <summary>Several extents of one file (multi-extent): one record per part, all but the last flagged 0x80.</summary>
    public List<byte[]>? Parts { get; init; }
    public List<HandNode> Children { get; } = [];
    /// <summary>The System Use area of this entry's record in its parent.</summary>
    public byte[] SystemUse { get; set; } = [];
    /// <summary>For directories: the System Use area of its own "." record.</summary>
    public byte[] SelfSystemUse { get; set; } = [];
    public byte ExtraFlags { get; init; }
    /// <summary>Record this node's extent as the other node's (loops, shared extents).</summary>
    public HandNode? SameExtentAs { get; set; }
    public uint? ExtentOverride { get; set; }
    public uint? LengthOverride { get; set; }

    /// <summary>The block assigned by <see cref="HandIso.Build"/>.</summary>
    public uint Block { get; internal set; }
    internal uint[] PartBlocks { get; set; } = [];

    public static HandNode File(string id, byte[] content, byte[]? systemUse = null) => new() { Identifier = Encoding.Latin1.GetBytes(id), Content = content, SystemUse = systemUse ?? [] };
    public static HandNode Dir(string id, params HandNode[] children)
    {
        var d = new HandNode { Identifier = Encoding.Latin1.GetBytes(id), Directory = true };
        d.Children.AddRange(children);
        return d;
    }
}

/// <summary>
/// Builds small ISO 9660 images byte by byte, for fuzz seeds and for tests that need what no peer tool writes: multi-extent
/// files of a few KiB, hostile names, loops, bad extents, Rock Ridge entries of any shape. Layout: PVD at
/// block 16, an optional boot record at 17, the terminator at 18, the boot catalog at 19, <see cref="Extra"/>
/// blocks from <see cref="ExtraStart"/> (for CE continuation areas), then directories, then file data.
/// </summary>
internal sealed class HandIso
{
    public const int ExtraStart = 20;
    public const int DirectoryStart = 30;
    public HandNode Root { get; } = HandNode.Dir("\0");
    public byte[]? BootCatalog { get; set; }
    /// <summary>Raw blocks placed at <see cref="ExtraStart"/> + i.</summary>
    public List<byte[]> Extra { get; } = [];
    public int BlockSize { get; set; } = 2048;
    /// <summary>Extra sectors appended (boot images, free space).</summary>
    public int TailBlocks { get; set; }

    public byte[] Build()
    {
        if (Extra.Count > DirectoryStart - ExtraStart) throw new InvalidOperationException("Too many extra blocks.");
        uint next = DirectoryStart;
        var dirs = new List<HandNode>();
        void Collect(HandNode d)
        {
            dirs.Add(d);
            foreach (var c in d.Children) if (c.Directory) Collect(c);
        }
        Collect(Root);
        var sizes = new Dictionary<HandNode, int>();
        foreach (var d in dirs)
        {
            sizes[d] = DirectoryBytes(d);
            d.Block = next;
            next += (uint)((sizes[d] + 2047) / 2048);
        }
        var files = new List<HandNode>();
        void CollectFiles(HandNode d)
        {
            foreach (var c in d.Children) { if (c.Directory) CollectFiles(c); else files.Add(c); }
        }
        CollectFiles(Root);
        foreach (var f in files)
        {
            var parts = f.Parts ?? [f.Content];
            f.PartBlocks = new uint[parts.Count];
            for (int i = 0; i < parts.Count; i++)
            {
                f.PartBlocks[i] = next;
                next += (uint)Math.Max(1, (parts[i].Length + 2047) / 2048);
            }
            f.Block = f.PartBlocks[0];
        }
        next += (uint)TailBlocks;
        var image = new byte[next * 2048L];
        WritePvd(image, next, sizes[Root]);
        if (BootCatalog is not null)
        {
            var br = image.AsSpan(17 * 2048, 2048);
            br[0] = 0; "CD001"u8.CopyTo(br[1..]); br[6] = 1;
            "EL TORITO SPECIFICATION"u8.CopyTo(br[7..]);
            BinaryPrimitives.WriteUInt32LittleEndian(br[0x47..], 19);
            BootCatalog.CopyTo(image.AsSpan(19 * 2048));
        }
        var term = image.AsSpan((BootCatalog is null ? 17 : 18) * 2048, 2048);
        term[0] = 255; "CD001"u8.CopyTo(term[1..]); term[6] = 1;
        for (int i = 0; i < Extra.Count; i++) Extra[i].CopyTo(image.AsSpan((ExtraStart + i) * 2048));
        foreach (var d in dirs) WriteDirectory(image, d, sizes);
        foreach (var f in files)
        {
            var parts = f.Parts ?? [f.Content];
            for (int i = 0; i < parts.Count; i++) parts[i].CopyTo(image.AsSpan((int)(f.PartBlocks[i] * 2048)));
        }
        return image;
    }

    private static int RecordLength(int idLength, int suLength) => 33 + idLength + ((idLength & 1) == 0 ? 1 : 0) + suLength;

    private static int DirectoryBytes(HandNode d)
    {
        var lengths = new List<int> { RecordLength(1, d.SelfSystemUse.Length), RecordLength(1, 0) };
        foreach (var c in d.Children)
            for (int i = 0; i < (c.Parts?.Count ?? 1); i++) lengths.Add(RecordLength(c.Identifier.Length, c.SystemUse.Length));
        int pos = 0;
        foreach (int len in lengths)
        {
            if (pos % 2048 + len > 2048) pos = (pos / 2048 + 1) * 2048;
            pos += len;
        }
        return (pos + 2047) / 2048 * 2048;
    }

    private void WriteDirectory(byte[] image, HandNode d, Dictionary<HandNode, int> sizes)
    {
        int pos = (int)(d.Block * 2048);
        int start = pos;
        void Put(byte[] id, uint extent, uint length, byte flags, byte[] su)
        {
            int len = RecordLength(id.Length, su.Length);
            if ((pos - start) % 2048 + len > 2048) pos = start + ((pos - start) / 2048 + 1) * 2048;
            var r = image.AsSpan(pos, len);
            r[0] = (byte)len;
            Both32(r[2..], extent);
            Both32(r[10..], length);
            r[18] = 121; r[19] = 3; r[20] = 4; r[21] = 5; r[22] = 6; r[23] = 7; // 2021-03-04 05:06:07 GMT
            r[25] = flags;
            Both16(r[28..], 1);
            r[32] = (byte)id.Length;
            id.CopyTo(r[33..]);
            su.CopyTo(r[(33 + id.Length + ((id.Length & 1) == 0 ? 1 : 0))..]);
            pos += len;
        }
        Put([0], d.Block, (uint)sizes[d], 2, d.SelfSystemUse);
        Put([1], d.Block, (uint)sizes[d], 2, []);
        foreach (var c in d.Children)
        {
            var target = c.SameExtentAs ?? c;
            if (c.Directory)
            {
                Put(c.Identifier, c.ExtentOverride ?? target.Block, c.LengthOverride ?? (uint)(sizes.TryGetValue(target, out int s) ? s : 2048), (byte)(2 | c.ExtraFlags), c.SystemUse);
                continue;
            }
            var parts = c.Parts ?? [c.Content];
            for (int i = 0; i < parts.Count; i++)
            {
                byte flags = (byte)(c.ExtraFlags | (i < parts.Count - 1 ? 0x80 : 0));
                uint block = c.ExtentOverride ?? (target.PartBlocks.Length > i ? target.PartBlocks[i] : target.Block);
                Put(c.Identifier, block, c.LengthOverride ?? (uint)parts[i].Length, flags, c.SystemUse);
            }
        }
    }

    private void WritePvd(byte[] image, uint blocks, int rootSize)
    {
        var p = image.AsSpan(16 * 2048, 2048);
        p[0] = 1; "CD001"u8.CopyTo(p[1..]); p[6] = 1;
        p.Slice(8, 32).Fill((byte)' ');
        p.Slice(40, 32).Fill((byte)' ');
        "HANDMADE"u8.CopyTo(p[40..]);
        Both32(p[80..], blocks);
        Both16(p[120..], 1);
        Both16(p[124..], 1);
        Both16(p[128..], (ushort)BlockSize);
        var root = p.Slice(156, 34);
        root[0] = 34;
        Both32(root[2..], Root.Block);
        Both32(root[10..], (uint)rootSize);
        root[25] = 2;
        Both16(root[28..], 1);
        root[32] = 1;
        p.Slice(190, 623).Fill((byte)' ');
        "2021030405060700"u8.CopyTo(p[813..]);
        "2021030405060700"u8.CopyTo(p[830..]);
        p[881] = 1;
    }

    public static void Both16(Span<byte> b, ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(b, v); BinaryPrimitives.WriteUInt16BigEndian(b[2..], v); }
    public static void Both32(Span<byte> b, uint v) { BinaryPrimitives.WriteUInt32LittleEndian(b, v); BinaryPrimitives.WriteUInt32BigEndian(b[4..], v); }

    // System Use entries (SUSP 1.12 / RRIP 1.12).
    public static byte[] Entry(string sig, params byte[] data)
    {
        var e = new byte[4 + data.Length];
        e[0] = (byte)sig[0]; e[1] = (byte)sig[1]; e[2] = (byte)e.Length; e[3] = 1;
        data.CopyTo(e, 4);
        return e;
    }
    public static byte[] Sp(byte skip = 0) => Entry("SP", 0xBE, 0xEF, skip);
    public static byte[] Er() => Entry("ER", [10, 0, 0, 1, .. "RRIP_1991A"u8]);
    public static byte[] Nm(string name, byte flags = 0) => Entry("NM", [flags, .. Encoding.UTF8.GetBytes(name)]);
    public static byte[] Px(uint mode, uint links = 1, uint uid = 0, uint gid = 0)
    {
        var d = new byte[32];
        Both32(d, mode); Both32(d.AsSpan(8), links); Both32(d.AsSpan(16), uid); Both32(d.AsSpan(24), gid);
        return Entry("PX", d);
    }
    public static byte[] Sl(byte flags, params (byte Flags, string Text)[] components)
    {
        var d = new List<byte> { flags };
        foreach (var (f, t) in components)
        {
            var b = Encoding.UTF8.GetBytes(t);
            d.Add(f); d.Add((byte)b.Length); d.AddRange(b);
        }
        return Entry("SL", [.. d]);
    }
    public static byte[] Ce(uint block, uint offset, uint length)
    {
        var d = new byte[24];
        Both32(d, block); Both32(d.AsSpan(8), offset); Both32(d.AsSpan(16), length);
        return Entry("CE", d);
    }
    public static byte[] Cl(uint block) { var d = new byte[8]; Both32(d, block); return Entry("CL", d); }
    public static byte[] Re() => Entry("RE");
    public static byte[] Cat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}

/// <summary>Seeds for the ISO 9660 fuzz targets, made with <see cref="HandIso"/> and by hand.</summary>
internal static class IsoSeeds
{
    /// <summary>Every ISO seed as (target, file name, bytes).</summary>
    public static IEnumerable<(string Target, string Name, byte[] Data)> All()
    {
        yield return ("iso9660", "plain", Plain().Build());
        yield return ("iso9660", "rock-ridge", RockRidge().Build());
        yield return ("iso9660", "multi-extent", MultiExtent().Build());
        yield return ("iso9660", "el-torito", Boot().Build());
        yield return ("iso9660", "zisofs", ZisofsImage().Build());
        yield return ("rock-ridge", "entries", RockRidgeArea(withCe: false));
        yield return ("rock-ridge", "continued", RockRidgeArea(withCe: true));
        yield return ("rock-ridge", "sp-skip", HandIso.Cat(HandIso.Sp(4), [0, 0, 0, 0], HandIso.Nm("skipped")));
        yield return ("el-torito", "bios-efi", Catalog());
        yield return ("el-torito", "validation-only", Catalog()[..64]);
        yield return ("zisofs", "mixed", Zisofs(Enumerable.Range(0, 100_000).Select(i => (byte)(i < 40_000 ? 0 : i % 7)).ToArray(), 15));
        yield return ("zisofs", "small", Zisofs("zisofs seed\n"u8.ToArray(), 16));
    }

    public static HandIso Plain()
    {
        var iso = new HandIso();
        iso.Root.Children.Add(HandNode.File("README.TXT;1", "hello\n"u8.ToArray()));
        iso.Root.Children.Add(HandNode.Dir("DIR", HandNode.File("INNER.;1", "inner\n"u8.ToArray()), HandNode.Dir("SUB")));
        return iso;
    }

    /// <summary>SP/ER on the root, NM continued into a CE area, SL with several components, TF long form, PX, a device node, CL/RE relocation.</summary>
    public static HandIso RockRidge()
    {
        var iso = new HandIso();
        iso.Root.SelfSystemUse = HandIso.Cat(HandIso.Sp(), HandIso.Er(), HandIso.Px(0x41ED, 3));
        var tf = new byte[1 + 3 * 17];
        tf[0] = 0x80 | 0x02 | 0x04 | 0x08;
        for (int i = 0; i < 3; i++) "2022010203040500"u8.CopyTo(tf.AsSpan(1 + i * 17));
        iso.Root.Children.Add(HandNode.File("LONG.TXT;1", "long name\n"u8.ToArray(), HandIso.Cat(HandIso.Px(0x81A4), HandIso.Nm("a long name that ", 1), HandIso.Ce(HandIso.ExtraStart, 0, 32), HandIso.Entry("TF", tf))));
        var ce = new byte[2048];
        HandIso.Nm("continues in a CE area").CopyTo(ce, 0);
        iso.Extra.Add(ce);
        iso.Root.Children.Add(HandNode.File("LINK;1", [], HandIso.Cat(HandIso.Px(0xA1FF), HandIso.Nm("link"),
            HandIso.Sl(0, (0x08, ""), (0, "usr"), (0x01, "sh"), (0, "are"), (0x04, ""), (0x02, "")))));
        iso.Root.Children.Add(HandNode.File("NULL;1", [], HandIso.Cat(HandIso.Px(0x21B6), HandIso.Nm("null"), HandIso.Entry("PN", [0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 0, 0, 1, 3]))));
        var moved = HandNode.Dir("DEEP");
        moved.SystemUse = HandIso.Cat(HandIso.Px(0x41ED), HandIso.Nm("deep"), HandIso.Re());
        moved.Children.Add(HandNode.File("BOTTOM.TXT;1", "bottom\n"u8.ToArray(), HandIso.Cat(HandIso.Px(0x81A4), HandIso.Nm("bottom.txt"))));
        var rrMoved = HandNode.Dir("RR_MOVED", moved);
        rrMoved.SystemUse = HandIso.Cat(HandIso.Px(0x41ED), HandIso.Nm("rr_moved"));
        iso.Root.Children.Add(rrMoved);
        var placeholder = HandNode.File("DEEP;1", [], HandIso.Cat(HandIso.Px(0x41ED), HandIso.Nm("deep"), HandIso.Cl(0)));
        iso.Root.Children.Add(placeholder);
        iso.Build();
        placeholder.SystemUse = HandIso.Cat(HandIso.Px(0x41ED), HandIso.Nm("deep"), HandIso.Cl(moved.Block));
        return iso;
    }

    public static HandIso MultiExtent()
    {
        var iso = new HandIso();
        var parts = new List<byte[]> { Fill(4096, 1), Fill(2048, 2), Fill(100, 3) };
        iso.Root.Children.Add(new HandNode { Identifier = "BIG.BIN;1"u8.ToArray(), Parts = parts });
        return iso;
    }

    public static HandIso Boot()
    {
        var iso = Plain();
        iso.TailBlocks = 4;
        iso.BootCatalog = Catalog();
        return iso;
    }

    public static HandIso ZisofsImage()
    {
        var iso = new HandIso();
        iso.Root.SelfSystemUse = HandIso.Cat(HandIso.Sp(), HandIso.Er());
        byte[] plain = Enumerable.Range(0, 70_000).Select(i => (byte)(i / 1000)).ToArray();
        var zf = new byte[12];
        "pz"u8.CopyTo(zf);
        zf[2] = 4; zf[3] = 15;
        HandIso.Both32(zf.AsSpan(4), (uint)plain.Length);
        iso.Root.Children.Add(HandNode.File("Z.BIN;1", Zisofs(plain, 15), HandIso.Cat(HandIso.Px(0x81A4), HandIso.Nm("z.bin"), HandIso.Entry("ZF", zf))));
        return iso;
    }

    private static byte[] Fill(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    private static byte[] RockRidgeArea(bool withCe)
    {
        var area = HandIso.Cat(HandIso.Sp(), HandIso.Px(0x81A4, 1, 1000, 1000), HandIso.Nm("name", 1),
            withCe ? HandIso.Ce(0, 128, 40) : [], HandIso.Sl(1, (0, "a")), HandIso.Sl(0, (0x04, ""), (0, "b")), HandIso.Entry("ST"));
        var padded = new byte[256];
        area.CopyTo(padded, 0);
        HandIso.Nm(" continued").CopyTo(padded, 128);
        return padded;
    }

    /// <summary>A catalog: validation entry (checksummed), a BIOS default entry, an EFI section with one entry and an extension.</summary>
    public static byte[] Catalog()
    {
        var c = new byte[2048];
        c[0] = 1;
        "DISCEMU"u8.CopyTo(c.AsSpan(4));
        c[30] = 0x55; c[31] = 0xAA;
        ushort sum = 0;
        for (int i = 0; i < 32; i += 2) sum += System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(c.AsSpan(i));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(c.AsSpan(28), (ushort)(0x10000 - sum));
        c[32] = 0x88; c[38] = 4; c[40] = 31; // BIOS, no emulation, 4 sectors at block 31
        c[64] = 0x91; c[65] = 0xEF; c[66] = 1;
        c[96] = 0x88; c[97] = 0x20 | 2; c[102] = 1; c[104] = 31; // EFI, 1.44M floppy, continuation follows
        c[128] = 0x44;
        return c;
    }

    /// <summary>A zisofs file (header, pointers, one zlib stream per block; zero blocks stored empty).</summary>
    public static byte[] Zisofs(byte[] plain, int blockLog)
    {
        int block = 1 << blockLog;
        int blocks = (plain.Length + block - 1) / block;
        var output = new MemoryStream();
        output.Write([0x37, 0xE4, 0x53, 0x96, 0xC9, 0xDB, 0xD6, 0x07]);
        output.Write(BitConverter.GetBytes((uint)plain.Length));
        output.Write([4, (byte)blockLog, 0, 0]);
        var pointers = new uint[blocks + 1];
        var data = new MemoryStream();
        uint start = (uint)(16 + 4 * (blocks + 1));
        for (int i = 0; i < blocks; i++)
        {
            pointers[i] = start + (uint)data.Length;
            var chunk = plain.AsSpan(i * block, Math.Min(block, plain.Length - i * block));
            if (chunk.IndexOfAnyExcept((byte)0) < 0) continue;
            using var z = new System.IO.Compression.ZLibStream(data, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true);
            z.Write(chunk);
        }
        pointers[blocks] = start + (uint)data.Length;
        foreach (var p in pointers) output.Write(BitConverter.GetBytes(p));
        data.Position = 0;
        data.CopyTo(output);
        return output.ToArray();
    }
}
