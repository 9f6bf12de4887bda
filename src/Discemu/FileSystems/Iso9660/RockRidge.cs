using System.Buffers.Binary;
using System.Text;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660;

/// <summary>zisofs parameters from a ZF entry (zisofs format, libisofs doc/zisofs_format.txt).</summary>
internal readonly record struct ZisofsInfo(string Algorithm, int HeaderSizeWords, int BlockLog2, uint UncompressedSize);

/// <summary>
/// What the Rock Ridge entries (RRIP 1.12) of one directory record say: POSIX attributes (PX), device
/// number (PN), symbolic link (SL), alternate name (NM), times (TF), deep-directory relocation
/// (CL, PL, RE), transparent compression (ZF) and sparse files (SF).
/// </summary>
internal sealed class RockRidgeInfo
{
    // TF flags (RRIP 4.1.6).
    private const byte TfCreation = 0x01, TfModify = 0x02, TfAccess = 0x04, TfAttributes = 0x08, TfLongForm = 0x80;

    // NM and SL component flags (RRIP 4.1.4, 4.1.3.1).
    private const byte FlagContinue = 0x01, FlagCurrent = 0x02, FlagParent = 0x04, FlagRoot = 0x08, FlagVolumeRoot = 0x10, FlagHost = 0x20;

    /// <summary>True when any Rock Ridge entry was seen.</summary>
    public bool Any { get; private set; }
    public string? Name { get; private set; }
    public uint? Mode { get; private set; }
    public uint? Links { get; private set; }
    public uint? Uid { get; private set; }
    public uint? Gid { get; private set; }
    public ulong? Inode { get; private set; }
    public ulong? DeviceNumber { get; private set; }
    public string? SymlinkTarget { get; private set; }
    public DateTimeOffset? Created { get; private set; }
    public DateTimeOffset? Modified { get; private set; }
    public DateTimeOffset? Accessed { get; private set; }
    public DateTimeOffset? Changed { get; private set; }
    public uint? ChildLink { get; private set; }
    public uint? ParentLink { get; private set; }
    public bool Relocated { get; private set; }
    public ZisofsInfo? Zisofs { get; private set; }
    public bool Sparse { get; private set; }

    /// <summary>Interprets <paramref name="entries"/>; malformed entries are ignored, never fatal.</summary>
    public static RockRidgeInfo Parse(IReadOnlyList<SuspEntry> entries)
    {
        var rr = new RockRidgeInfo();
        StringBuilder? name = null;
        bool nameDone = false;
        var link = new SymlinkBuilder();
        foreach (var e in entries)
        {
            var d = e.Data.AsSpan();
            switch (e.Signature)
            {
                case "PX" when d.Length >= 32:
                    rr.Any = true;
                    rr.Mode = BinaryPrimitives.ReadUInt32LittleEndian(d);
                    rr.Links = BinaryPrimitives.ReadUInt32LittleEndian(d[8..]);
                    rr.Uid = BinaryPrimitives.ReadUInt32LittleEndian(d[16..]);
                    rr.Gid = BinaryPrimitives.ReadUInt32LittleEndian(d[24..]);
                    if (d.Length >= 40) rr.Inode = BinaryPrimitives.ReadUInt32LittleEndian(d[32..]);
                    break;
                case "PN" when d.Length >= 16:
                    rr.Any = true;
                    rr.DeviceNumber = ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(d) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(d[8..]);
                    break;
                case "NM" when d.Length >= 1:
                    rr.Any = true;
                    if (nameDone) break;
                    byte flags = d[0];
                    if ((flags & (FlagCurrent | FlagParent)) != 0)
                    {
                        // "." or "..": only meaningful on the self and parent records, which are not listed.
                        name = new StringBuilder((flags & FlagParent) != 0 ? ".." : ".");
                        nameDone = true;
                        break;
                    }
                    if ((flags & FlagHost) != 0) break; // the host name: not recorded, keep the ISO name
                    name ??= new StringBuilder();
                    if (name.Length + d.Length > MaxNameBytes) { nameDone = true; break; }
                    name.Append(IsoText.Bytes(d[1..]));
                    if ((flags & FlagContinue) == 0) nameDone = true;
                    break;
                case "SL" when d.Length >= 1:
                    rr.Any = true;
                    link.Add(d);
                    break;
                case "TF" when d.Length >= 1:
                    rr.Any = true;
                    rr.ReadTimes(d);
                    break;
                case "CL" when d.Length >= 8:
                    rr.Any = true;
                    rr.ChildLink = BinaryPrimitives.ReadUInt32LittleEndian(d);
                    break;
                case "PL" when d.Length >= 8:
                    rr.Any = true;
                    rr.ParentLink = BinaryPrimitives.ReadUInt32LittleEndian(d);
                    break;
                case "RE":
                    rr.Any = true;
                    rr.Relocated = true;
                    break;
                case "ZF" when d.Length >= 12:
                    rr.Zisofs = new ZisofsInfo(Encoding.Latin1.GetString(d[..2]), d[2], d[3], BinaryPrimitives.ReadUInt32LittleEndian(d[4..]));
                    break;
                case "Z2":
                    rr.Zisofs = new ZisofsInfo("Z2", 0, 0, 0); // zisofs2: detected, not supported
                    break;
                case "SF":
                    rr.Any = true;
                    rr.Sparse = true;
                    break;
                case "RR":
                    rr.Any = true; // RRIP 1.09's flags entry: its content adds nothing
                    break;
            }
        }
        if (name is { Length: > 0 }) rr.Name = name.ToString();
        rr.SymlinkTarget = link.Result;
        return rr;
    }

    private void ReadTimes(ReadOnlySpan<byte> d)
    {
        byte flags = d[0];
        int size = (flags & TfLongForm) != 0 ? IsoDateTime.LongLength : IsoDateTime.ShortLength;
        var times = d[1..];
        // The recorded times appear in flag order; backup, expiration and effective times are not kept.
        Span<DateTimeOffset?> found = stackalloc DateTimeOffset?[7];
        for (int bit = 0; bit < 7; bit++)
        {
            if ((flags & (1 << bit)) == 0) continue;
            if (times.Length < size) break;
            found[bit] = size == IsoDateTime.LongLength ? IsoDateTime.ReadLong(times[..size]) : IsoDateTime.ReadShort(times[..size]);
            times = times[size..];
        }
        if ((flags & TfCreation) != 0) Created = found[0];
        if ((flags & TfModify) != 0) Modified = found[1];
        if ((flags & TfAccess) != 0) Accessed = found[2];
        if ((flags & TfAttributes) != 0) Changed = found[3];
    }

    /// <summary>Joins SL entries and their components (RRIP 4.1.3): component and entry continuation flags.</summary>
    private sealed class SymlinkBuilder
    {
        private StringBuilder? _text;
        private bool _done, _continueComponent, _needSlash;

        public string? Result => _text?.ToString();

        public void Add(ReadOnlySpan<byte> d)
        {
            if (_done) return;
            _text ??= new StringBuilder();
            byte entryFlags = d[0];
            int pos = 1;
            while (pos + 2 <= d.Length)
            {
                byte flags = d[pos];
                int len = d[pos + 1];
                if (pos + 2 + len > d.Length) break;
                var content = d.Slice(pos + 2, len);
                pos += 2 + len;
                if (_text.Length + len + 3 > MaxSymlinkBytes) { _done = true; return; }
                if (!_continueComponent && _needSlash) _text.Append('/');
                if ((flags & FlagRoot) != 0 || (flags & FlagVolumeRoot) != 0)
                {
                    if (_text.Length == 0) _text.Append('/');
                    _needSlash = false;
                    _continueComponent = false;
                    continue;
                }
                if ((flags & FlagCurrent) != 0) _text.Append('.');
                else if ((flags & FlagParent) != 0) _text.Append("..");
                else if ((flags & FlagHost) == 0) _text.Append(IsoText.Bytes(content));
                _continueComponent = (flags & FlagContinue) != 0;
                _needSlash = true;
            }
            if ((entryFlags & FlagContinue) == 0) _done = true;
        }
    }
}
