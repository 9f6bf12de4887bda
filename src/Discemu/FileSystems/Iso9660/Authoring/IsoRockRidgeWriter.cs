using System.Text;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>Which record of a node the System Use entries are for.</summary>
internal enum SuRole
{
    /// <summary>The node's record in its parent directory.</summary>
    Entry,
    /// <summary>A directory's "." record (the root's also carries SP and ER).</summary>
    Self,
    /// <summary>A directory's ".." record (the parent's attributes).</summary>
    Parent,
}

/// <summary>
/// Rock Ridge (RRIP 1.12) and SUSP 1.12 entries for directory records: SP and ER (IEEE_1282) on the root's "."
/// record, PX (with the file serial number), TF (modification, access, attribute change; short form), NM (split with
/// CONTINUE), SL (components split with CONTINUE), PN for devices; what does not fit the 255-byte record goes to a
/// continuation area a CE entry points to.
/// </summary>
internal static class IsoRockRidgeWriter
{
    public const int CeLength = 28;
    public const int MaxContinuationArea = IsoConstants.SectorSize;
    private const int MaxNmChunk = 250;
    private const int MaxSlEntry = 255;
    private const int MaxComponent = 200;

    private static readonly byte[] ErId = "IEEE_1282"u8.ToArray();
    private static readonly byte[] ErDescriptor = "THE IEEE 1282 PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS."u8.ToArray();
    private static readonly byte[] ErSource = "PLEASE CONTACT THE IEEE STANDARDS DEPARTMENT, PISCATAWAY, NJ, USA FOR THE 1282 SPECIFICATION."u8.ToArray();

    /// <summary>
    /// The entries of a record, in order, for <paramref name="e"/> (texts in <paramref name="texts"/>; the name and
    /// link target are used for <see cref="SuRole.Entry"/> records only).
    /// </summary>
    public static List<byte[]> Entries(in IsoEntry e, IsoEntries texts, SuRole role, bool isRoot, bool rational)
    {
        var list = new List<byte[]>(6);
        if (role == SuRole.Self && isRoot) list.Add(Sp());
        list.Add(Px(e, rational));
        list.Add(Tf(e));
        if (role == SuRole.Entry)
        {
            AddNm(list, texts.Text(e.Name));
            if (e.Kind == IsoNodeKind.Symlink) AddSl(list, new string(texts.Text(e.Target)));
            if (e.Kind == IsoNodeKind.Special && (e.Mode & 0xF000) is 0x2000 or 0x6000) list.Add(Pn(e.Device));
        }
        if (role == SuRole.Self && isRoot) list.Add(Er());
        return list;
    }

    /// <summary>What the "." and ".." records for <paramref name="dir"/> carry: its attributes, link count and serial number.</summary>
    public static IsoEntry Attributes(IsoNode dir) => new()
    {
        Kind = dir.Kind, Mode = dir.Mode, Uid = dir.Uid, Gid = dir.Gid, Links = dir.Links, Inode = dir.Inode,
        Modified = dir.ModifiedSeconds, Accessed = dir.AccessedSeconds, Changed = dir.ChangedSeconds,
    };

    /// <summary>
    /// Splits <paramref name="entries"/> between a record with <paramref name="available"/> bytes of System Use
    /// and one continuation area: returns how many entries stay in the record, their bytes (with a CE entry when
    /// some move) and the continuation area's bytes (0 when none; more than <see cref="MaxContinuationArea"/> does not fit).
    /// </summary>
    public static (int Inline, int InlineBytes, int ContinuationBytes) Pack(List<byte[]> entries, int available)
    {
        int total = 0;
        foreach (var e in entries) total += e.Length;
        if (total <= available) return (entries.Count, total, 0);
        int used = 0, i = 0;
        while (i < entries.Count && used + entries[i].Length <= available - CeLength) used += entries[i++].Length;
        return (i, used + CeLength, total - used);
    }

    /// <summary>Writes the record's System Use bytes: the first <paramref name="inline"/> entries, then CE when some are left.</summary>
    public static int WriteInline(Span<byte> b, List<byte[]> entries, int inline, uint ceBlock, uint ceOffset, int ceLength)
    {
        int pos = 0;
        for (int i = 0; i < inline; i++) { entries[i].CopyTo(b[pos..]); pos += entries[i].Length; }
        if (inline < entries.Count)
        {
            var ce = b.Slice(pos, CeLength);
            Header(ce, "CE", CeLength);
            IsoRecords.Both32(ce[4..], ceBlock);
            IsoRecords.Both32(ce[12..], ceOffset);
            IsoRecords.Both32(ce[20..], (uint)ceLength);
            pos += CeLength;
        }
        return pos;
    }

    /// <summary>Writes the entries after the first <paramref name="inline"/> (the continuation area).</summary>
    public static int WriteContinuation(Span<byte> b, List<byte[]> entries, int inline)
    {
        int pos = 0;
        for (int i = inline; i < entries.Count; i++) { entries[i].CopyTo(b[pos..]); pos += entries[i].Length; }
        return pos;
    }

    private static void Header(Span<byte> e, string sig, int length)
    {
        e[0] = (byte)sig[0];
        e[1] = (byte)sig[1];
        e[2] = (byte)length;
        e[3] = 1;
    }

    private static byte[] Sp()
    {
        var e = new byte[7];
        Header(e, "SP", 7);
        e[4] = 0xBE;
        e[5] = 0xEF;
        return e;
    }

    private static byte[] Er()
    {
        var e = new byte[8 + ErId.Length + ErDescriptor.Length + ErSource.Length];
        Header(e, "ER", e.Length);
        e[4] = (byte)ErId.Length;
        e[5] = (byte)ErDescriptor.Length;
        e[6] = (byte)ErSource.Length;
        e[7] = 1;
        ErId.CopyTo(e, 8);
        ErDescriptor.CopyTo(e, 8 + ErId.Length);
        ErSource.CopyTo(e, 8 + ErId.Length + ErDescriptor.Length);
        return e;
    }

    private static byte[] Px(in IsoEntry node, bool rational)
    {
        var e = new byte[44];
        Header(e, "PX", 44);
        uint mode = node.Mode, uid = node.Uid, gid = node.Gid;
        if (rational) (mode, uid, gid) = (Rationalize(mode), 0u, 0u);
        IsoRecords.Both32(e.AsSpan(4), mode);
        IsoRecords.Both32(e.AsSpan(12), node.Links);
        IsoRecords.Both32(e.AsSpan(20), uid);
        IsoRecords.Both32(e.AsSpan(28), gid);
        IsoRecords.Both32(e.AsSpan(36), node.Inode);
        return e;
    }

    /// <summary>mkisofs -r: readable by everyone, executable by everyone when anyone may execute, nothing writable, no set-id bits.</summary>
    private static uint Rationalize(uint mode)
    {
        uint type = mode & 0xF000, perm = mode & 0x1FF;
        perm = (perm | 0x124) & ~0x92u;
        if ((mode & 0x49) != 0 || type == 0x4000) perm |= 0x49;
        return type | perm;
    }

    private static byte[] Tf(in IsoEntry node)
    {
        var e = new byte[5 + 3 * IsoDateTime.ShortLength];
        Header(e, "TF", e.Length);
        e[4] = 0x0E; // modification, access, attribute change
        IsoDateTimeWriter.WriteShort(e.AsSpan(5), node.Modified);
        IsoDateTimeWriter.WriteShort(e.AsSpan(12), node.Accessed);
        IsoDateTimeWriter.WriteShort(e.AsSpan(19), node.Changed);
        return e;
    }

    private static byte[] Pn(ulong device)
    {
        var e = new byte[20];
        Header(e, "PN", 20);
        IsoRecords.Both32(e.AsSpan(4), (uint)(device >> 32));
        IsoRecords.Both32(e.AsSpan(12), (uint)device);
        return e;
    }

    private static void AddNm(List<byte[]> list, ReadOnlySpan<char> name)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(name)];
        Encoding.UTF8.GetBytes(name, bytes);
        int pos = 0;
        do
        {
            int n = Math.Min(MaxNmChunk, bytes.Length - pos);
            var e = new byte[5 + n];
            Header(e, "NM", e.Length);
            e[4] = (byte)(pos + n < bytes.Length ? 1 : 0);
            bytes.AsSpan(pos, n).CopyTo(e.AsSpan(5));
            list.Add(e);
            pos += n;
        } while (pos < bytes.Length);
    }

    private static void AddSl(List<byte[]> list, string target)
    {
        // Component records: flags, length, content (RRIP 4.1.3.1).
        var components = new List<byte[]>();
        if (target.StartsWith('/')) components.Add([0x08, 0]);
        foreach (string part in target.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") { components.Add([0x02, 0]); continue; }
            if (part == "..") { components.Add([0x04, 0]); continue; }
            var bytes = Encoding.UTF8.GetBytes(part);
            for (int pos = 0; pos < bytes.Length; pos += MaxComponent)
            {
                int n = Math.Min(MaxComponent, bytes.Length - pos);
                var c = new byte[2 + n];
                c[0] = (byte)(pos + n < bytes.Length ? 1 : 0);
                c[1] = (byte)n;
                bytes.AsSpan(pos, n).CopyTo(c.AsSpan(2));
                components.Add(c);
            }
        }
        var entries = new List<List<byte[]>> { new() };
        int size = 5;
        foreach (var c in components)
        {
            if (size + c.Length > MaxSlEntry) { entries.Add([]); size = 5; }
            entries[^1].Add(c);
            size += c.Length;
        }
        for (int i = 0; i < entries.Count; i++)
        {
            int len = 5 + entries[i].Sum(c => c.Length);
            var e = new byte[len];
            Header(e, "SL", len);
            e[4] = (byte)(i + 1 < entries.Count ? 1 : 0);
            int pos = 5;
            foreach (var c in entries[i]) { c.CopyTo(e, pos); pos += c.Length; }
            list.Add(e);
        }
    }
}
