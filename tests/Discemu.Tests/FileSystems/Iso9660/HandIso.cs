using System.Buffers.Binary;
using System.Text;

namespace Discemu.Tests.FileSystems.Iso9660;

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
/// Builds small ISO 9660 images byte by byte for tests that need what no peer tool writes: multi-extent
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
        var term = image.AsSpan(18 * 2048, 2048);
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
