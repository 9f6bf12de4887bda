using System.Globalization;
using System.Text;
using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

/// <summary>How an extent may be accessed (the first word of an extent line).</summary>
internal enum VmdkAccess { ReadWrite, ReadOnly, NoAccess }

/// <summary>One line of the descriptor's extent description: access, size, type, file and start sector.</summary>
/// <param name="Access">RW, RDONLY or NOACCESS.</param>
/// <param name="Sectors">The extent's size in sectors.</param>
/// <param name="Type">FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, SESPARSE, VMFSRDM, VMFSRAW (upper case).</param>
/// <param name="FileName">The extent file, relative to the descriptor's folder; null for ZERO.</param>
/// <param name="StartSector">For flat extents: where the extent's data starts in the file.</param>
internal sealed record VmdkExtentLine(VmdkAccess Access, long Sectors, string Type, string? FileName, long StartSector)
{
    /// <summary>The extent's size in bytes.</summary>
    public long Bytes => Sectors * Sector;

    /// <summary>The line as written in a descriptor.</summary>
    public string Format()
    {
        string access = Access switch { VmdkAccess.ReadOnly => "RDONLY", VmdkAccess.NoAccess => "NOACCESS", _ => "RW" };
        var s = string.Create(CultureInfo.InvariantCulture, $"{access} {Sectors} {Type}");
        if (FileName is not null) s += $" \"{FileName}\"";
        if (Type is "FLAT" or "VMFS" or "VMFSRAW" or "VMFSRDM" && FileName is not null) s += string.Create(CultureInfo.InvariantCulture, $" {StartSector}");
        return s;
    }
}

/// <summary>
/// A parsed VMDK descriptor (Virtual Disk Format 1.1 §"The Descriptor File"): the header keys
/// (version, CID, parentCID, createType, parentFileNameHint), the extent lines and the disk database.
/// The original lines are kept, so rewriting the CID or the parent changes only those lines.
/// </summary>
internal sealed class VmdkDescriptor
{
    private readonly List<string> _lines;

    private VmdkDescriptor(List<string> lines) => _lines = lines;

    /// <summary>The descriptor version (1, 2 or 3).</summary>
    public int Version { get; private set; } = 1;

    /// <summary>The content identifier: changes whenever the disk's content changes.</summary>
    public uint Cid { get; private set; }

    /// <summary>The parent's content identifier when this disk was made (<see cref="NoParentCid"/>: no parent).</summary>
    public uint ParentCid { get; private set; } = NoParentCid;

    /// <summary>The disk type (monolithicSparse, streamOptimized, ...).</summary>
    public string CreateType { get; private set; } = "";

    /// <summary>The parent's file name, relative to this descriptor's folder, or null.</summary>
    public string? ParentFileNameHint { get; private set; }

    /// <summary>The encoding key, when present.</summary>
    public string? Encoding { get; private set; }

    /// <summary>The extents in disk order.</summary>
    public IReadOnlyList<VmdkExtentLine> Extents { get; private set; } = [];

    /// <summary>The disk database (<c>ddb.*</c> keys) in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Ddb { get; private set; } = [];

    /// <summary>The total size of the extents in bytes.</summary>
    public long TotalBytes => Extents.Sum(e => e.Bytes);

    /// <summary>A disk database value, or null.</summary>
    public string? GetDdb(string key)
    {
        foreach (var (k, v) in Ddb) if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) return v;
        return null;
    }

    /// <summary>True when <paramref name="data"/> looks like the start of a text descriptor (a <c>version=N</c> line among comments).</summary>
    public static bool LooksLikeDescriptor(ReadOnlySpan<byte> data)
    {
        int pos = 0;
        while (pos < data.Length)
        {
            int nl = data[pos..].IndexOf((byte)'\n');
            var line = nl < 0 ? data[pos..] : data.Slice(pos, nl);
            foreach (byte b in line)
                if (b < 0x20 && b is not (byte)'\t' and not (byte)'\r') return false;
            var text = line.Trim((byte)' ').Trim((byte)'\t').TrimEnd((byte)'\r');
            if (text.SequenceEqual("version=1"u8) || text.SequenceEqual("version=2"u8) || text.SequenceEqual("version=3"u8)) return true;
            if (text.Length > 0 && text[0] != (byte)'#') return false;
            if (nl < 0) break;
            pos += nl + 1;
        }
        return false;
    }

    /// <summary>Parses descriptor text; it ends at the first NUL, as for qemu and VMware (padding or stale bytes after it are ignored).</summary>
    /// <exception cref="CorruptImageException">A line is malformed, a required key is missing, or there are no extents.</exception>
    public static VmdkDescriptor Parse(ReadOnlySpan<byte> data, string? path)
    {
        int nul = data.IndexOf((byte)0);
        if (nul >= 0) data = data[..nul];
        if (data.Length > MaxDescriptorBytes) throw new CorruptImageException("The VMDK descriptor is larger than 1 MiB.", path);
        string text;
        try { text = new UTF8Encoding(false, true).GetString(data); }
        catch (DecoderFallbackException) { text = System.Text.Encoding.Latin1.GetString(data); }
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        while (lines.Count > 0 && lines[^1].Trim().Length == 0) lines.RemoveAt(lines.Count - 1);
        var d = new VmdkDescriptor(lines);
        d.Interpret(path);
        return d;
    }

    private void Interpret(string? path)
    {
        var extents = new List<VmdkExtentLine>();
        var ddb = new List<KeyValuePair<string, string>>();
        bool haveCreateType = false;
        long total = 0;
        foreach (var raw in _lines)
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            if (TryParseExtent(line, path) is { } extent)
            {
                if (extents.Count >= 65536) throw new CorruptImageException("The VMDK descriptor lists more than 65536 extents.", path);
                total = checked(total + extent.Sectors);
                if (total > MaxVirtualBytes / Sector) throw new CorruptImageException("The VMDK extents add up to more than the largest supported disk.", path);
                extents.Add(extent);
                continue;
            }
            int eq = line.IndexOf('=');
            if (eq <= 0) throw new CorruptImageException($"Unrecognised VMDK descriptor line '{Shorten(line)}'.", path);
            string key = line[..eq].Trim();
            string value = Unquote(line[(eq + 1)..]);
            if (key.StartsWith("ddb.", StringComparison.OrdinalIgnoreCase))
            {
                ddb.Add(new(key, value));
                continue;
            }
            switch (key.ToLowerInvariant())
            {
                case "version":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v is < 1 or > 3)
                        throw new UnsupportedFeatureException($"VMDK descriptor version '{Shorten(value)}' is not supported.", path);
                    Version = v;
                    break;
                case "cid": Cid = ParseCid(value, "CID", path); break;
                case "parentcid": ParentCid = ParseCid(value, "parentCID", path); break;
                case "createtype":
                    CreateType = value;
                    haveCreateType = true;
                    break;
                case "parentfilenamehint": ParentFileNameHint = value.Length == 0 ? null : value; break;
                case "encoding": Encoding = value; break;
            }
        }
        if (!haveCreateType) throw new CorruptImageException("The VMDK descriptor has no createType.", path);
        if (extents.Count == 0) throw new CorruptImageException("The VMDK descriptor lists no extents.", path);
        Extents = extents;
        Ddb = ddb;
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "...";

    private static uint ParseCid(string value, string key, string? path)
        => uint.TryParse(value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint cid)
            ? cid : throw new CorruptImageException($"The VMDK {key} '{Shorten(value)}' is not a hexadecimal number.", path);

    /// <summary>The value after '=': the text between quotes when quoted, else up to a comment, trimmed.</summary>
    private static string Unquote(string value)
    {
        value = value.Trim();
        if (value.StartsWith('"'))
        {
            int end = value.IndexOf('"', 1);
            return end < 0 ? value[1..] : value[1..end];
        }
        int hash = value.IndexOf('#');
        return (hash < 0 ? value : value[..hash]).Trim();
    }

    /// <summary>Parses an extent line, or returns null when the line does not start with an access mode.</summary>
    private static VmdkExtentLine? TryParseExtent(string line, string? path)
    {
        var tokens = Tokenize(line);
        if (tokens.Count == 0) return null;
        VmdkAccess access;
        switch (tokens[0].Text.ToUpperInvariant())
        {
            case "RW": access = VmdkAccess.ReadWrite; break;
            case "RDONLY": access = VmdkAccess.ReadOnly; break;
            case "NOACCESS": access = VmdkAccess.NoAccess; break;
            default: return null;
        }
        if (tokens.Count < 3 || tokens[1].Quoted || tokens[2].Quoted)
            throw new CorruptImageException($"Malformed VMDK extent line '{Shorten(line)}'.", path);
        if (!long.TryParse(tokens[1].Text, NumberStyles.None, CultureInfo.InvariantCulture, out long sectors) || sectors < 0)
            throw new CorruptImageException($"Invalid sector count in VMDK extent line '{Shorten(line)}'.", path);
        string type = tokens[2].Text.ToUpperInvariant();
        string? file = null;
        long start = 0;
        if (type != "ZERO")
        {
            if (tokens.Count < 4) throw new CorruptImageException($"The VMDK extent line '{Shorten(line)}' names no file.", path);
            file = tokens[3].Text;
            if (file.Length == 0 || file.Contains('\0')) throw new CorruptImageException("A VMDK extent file name is empty.", path);
            if (tokens.Count >= 5 && !tokens[4].Quoted
                && (!long.TryParse(tokens[4].Text, NumberStyles.None, CultureInfo.InvariantCulture, out start) || start > MaxVirtualBytes / Sector))
                throw new CorruptImageException($"Invalid start sector in VMDK extent line '{Shorten(line)}'.", path);
        }
        return new VmdkExtentLine(access, sectors, type, file, start);
    }

    private readonly record struct Token(string Text, bool Quoted);

    private static List<Token> Tokenize(string line)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i])) { i++; continue; }
            if (line[i] == '#') break;
            if (line[i] == '"')
            {
                int end = line.IndexOf('"', i + 1);
                if (end < 0) end = line.Length;
                tokens.Add(new Token(line[(i + 1)..end], true));
                i = end + 1;
                continue;
            }
            int start = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i]) && line[i] != '"') i++;
            tokens.Add(new Token(line[start..i], false));
        }
        return tokens;
    }

    /// <summary>The descriptor as text (lines joined with line feeds, one at the end).</summary>
    public string ToText() => string.Join('\n', _lines) + "\n";

    /// <summary>The descriptor as UTF-8 bytes.</summary>
    public byte[] ToBytes() => System.Text.Encoding.UTF8.GetBytes(ToText());

    /// <summary>A copy with another CID (and, when the disk database has one, a matching long content ID).</summary>
    public VmdkDescriptor WithCid(uint cid)
    {
        var copy = new VmdkDescriptor([.. _lines]);
        copy.SetHeaderKey("CID", cid.ToString("x8", CultureInfo.InvariantCulture), "version");
        if (GetDdb("ddb.longContentID") is not null) copy.SetDdbKey("ddb.longContentID", NewLongContentId(cid));
        copy.Interpret(null);
        return copy;
    }

    /// <summary>A copy with another parent: its CID and file name (null removes the parent).</summary>
    public VmdkDescriptor WithParent(uint parentCid, string? parentFileNameHint)
    {
        var copy = new VmdkDescriptor([.. _lines]);
        copy.SetHeaderKey("parentCID", parentCid.ToString("x8", CultureInfo.InvariantCulture), "CID");
        if (parentFileNameHint is null) copy.RemoveHeaderKey("parentFileNameHint");
        else copy.SetHeaderKey("parentFileNameHint", $"\"{parentFileNameHint}\"", "createType");
        copy.Interpret(null);
        return copy;
    }

    /// <summary>Replaces the line of <paramref name="key"/>, or inserts one after the line of <paramref name="after"/>.</summary>
    private void SetHeaderKey(string key, string value, string after)
    {
        string line = $"{key}={value}";
        int at = FindHeaderKey(key);
        if (at >= 0)
        {
            _lines[at] = line;
            // A key given twice counts by its last line: keep only the one just written.
            for (int i = _lines.Count - 1; i > at; i--)
                if (KeyOf(_lines[i]) is { } k && string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) _lines.RemoveAt(i);
            return;
        }
        int anchor = FindHeaderKey(after);
        _lines.Insert(anchor >= 0 ? anchor + 1 : Math.Min(1, _lines.Count), line);
    }

    private void RemoveHeaderKey(string key)
    {
        int at;
        while ((at = FindHeaderKey(key)) >= 0) _lines.RemoveAt(at);
    }

    private void SetDdbKey(string key, string value)
    {
        int at = FindHeaderKey(key);
        string line = $"{key} = \"{value}\"";
        if (at >= 0) _lines[at] = line;
        else _lines.Add(line);
    }

    private int FindHeaderKey(string key)
    {
        for (int i = 0; i < _lines.Count; i++)
            if (KeyOf(_lines[i]) is { } k && string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    /// <summary>The key of a <c>key=value</c> line (not a comment, not an extent line), or null.</summary>
    private static string? KeyOf(string raw)
    {
        string line = raw.Trim();
        if (line.Length == 0 || line[0] == '#') return null;
        int eq = line.IndexOf('=');
        return eq > 0 ? line[..eq].Trim() : null;
    }

    /// <summary>A random CID that is neither "no parent" (ffffffff) nor fffffffe (some tools give it a meaning).</summary>
    public static uint NewCid()
    {
        uint cid;
        do cid = (uint)Random.Shared.NextInt64(0, 1L << 32);
        while (cid >= 0xFFFFFFFE);
        return cid;
    }

    /// <summary>A 128-bit long content ID as 32 hexadecimal digits ending with the CID (as VMware writes them).</summary>
    public static string NewLongContentId(uint cid)
    {
        Span<byte> random = stackalloc byte[12];
        Random.Shared.NextBytes(random);
        return Convert.ToHexStringLower(random) + cid.ToString("x8", CultureInfo.InvariantCulture);
    }

    /// <summary>Parses descriptor text built by this driver (never fails for its own output).</summary>
    public static VmdkDescriptor FromText(string text) => Parse(System.Text.Encoding.UTF8.GetBytes(text), null);
}
