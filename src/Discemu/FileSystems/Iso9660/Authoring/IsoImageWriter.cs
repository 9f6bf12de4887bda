using System.Buffers.Binary;
using System.Text;
using Discemu.Block;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>Writes a planned image to a fresh device in one pass, in increasing offset order.</summary>
internal sealed partial class IsoImageWriter(IsoLayout layout, List<ResolvedBootEntry> boots, BlockDevice device, DateTimeOffset volumeTime, byte[]? hybridTemplate, long efiBytes)
{
    private readonly IsoSink _sink = new(device);
    private readonly IsoAuthorOptions _o = layout.Options;

    public void Write(CancellationToken cancel)
    {
        WriteSystemArea();
        _sink.SkipTo((long)VolumeDescriptorStart * SectorSize);
        WriteDescriptors();
        WritePathTable(layout.IsoDirs, layout.PathTableL, joliet: false, bigEndian: false);
        WritePathTable(layout.IsoDirs, layout.PathTableM, joliet: false, bigEndian: true);
        if (_o.Joliet)
        {
            WritePathTable(layout.JolietDirs, layout.JolietPathTableL, joliet: true, bigEndian: false);
            WritePathTable(layout.JolietDirs, layout.JolietPathTableM, joliet: true, bigEndian: true);
        }
        foreach (var dir in layout.IsoDirs) WriteIsoDirectory(dir);
        if (_o.Joliet) foreach (var dir in layout.JolietDirs) WriteJolietDirectory(dir);
        if (layout.HasBoot)
        {
            _sink.SkipTo((long)layout.BootCatalogBlock * SectorSize);
            int bytes = (int)IsoElToritoWriter.CatalogBytes(_o.BootEntries);
            IsoElToritoWriter.WriteCatalog(_sink.GetSpan(bytes), boots);
            _sink.Advance(bytes);
        }
        WriteFiles(cancel);
        _sink.SkipTo((long)layout.VolumeBlocks * SectorSize);
        WriteTrailer();
        _sink.Flush();
    }

    private void WriteDescriptors()
    {
        Span<byte> s = stackalloc byte[SectorSize];
        Descriptor(s, joliet: false);
        _sink.Write(s);
        if (layout.HasBoot)
        {
            IsoElToritoWriter.WriteBootRecord(s, layout.BootCatalogBlock);
            _sink.Write(s);
        }
        if (_o.Joliet)
        {
            Descriptor(s, joliet: true);
            _sink.Write(s);
        }
        s.Clear();
        s[0] = VdTerminator;
        StandardIdentifier.CopyTo(s[1..]);
        s[6] = 1;
        _sink.Write(s);
    }

    /// <summary>The primary (ECMA-119 8.4) or Joliet supplementary (8.5, escape sequence %/E) volume descriptor.</summary>
    private void Descriptor(Span<byte> s, bool joliet)
    {
        s.Clear();
        s[0] = joliet ? VdSupplementary : VdPrimary;
        StandardIdentifier.CopyTo(s[1..]);
        s[6] = 1;
        IsoRecords.Field(s.Slice(8, 32), joliet ? _o.SystemId : Upper(_o.SystemId), joliet);
        IsoRecords.Field(s.Slice(40, 32), joliet ? _o.VolumeId : Upper(_o.VolumeId), joliet);
        IsoRecords.Both32(s[80..], layout.VolumeBlocks);
        if (joliet) JolietLevel3.CopyTo(s[88..]);
        IsoRecords.Both16(s[120..], 1);
        IsoRecords.Both16(s[124..], 1);
        IsoRecords.Both16(s[128..], SectorSize);
        uint ptBytes = joliet ? layout.JolietPathTableBytes : layout.PathTableBytes;
        IsoRecords.Both32(s[132..], ptBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(s[140..], joliet ? layout.JolietPathTableL : layout.PathTableL);
        BinaryPrimitives.WriteUInt32BigEndian(s[148..], joliet ? layout.JolietPathTableM : layout.PathTableM);
        var root = layout.Root;
        IsoRecords.WriteRecord(s.Slice(156, DirectoryRecordMinLength), joliet ? root.JolietExtent : root.Extent,
            joliet ? root.JolietDirBytes : root.IsoDirBytes, root.ModifiedSeconds, FlagDirectory, [0], []);
        IsoRecords.Field(s.Slice(190, 128), joliet ? _o.VolumeSetId : Upper(_o.VolumeSetId), joliet);
        IsoRecords.Field(s.Slice(318, 128), joliet ? _o.PublisherId : Upper(_o.PublisherId), joliet);
        IsoRecords.Field(s.Slice(446, 128), joliet ? _o.PreparerId : Upper(_o.PreparerId), joliet);
        IsoRecords.Field(s.Slice(574, 128), joliet ? _o.ApplicationId : Upper(_o.ApplicationId), joliet);
        IsoRecords.Field(s.Slice(702, 37), "", joliet);
        IsoRecords.Field(s.Slice(739, 37), "", joliet);
        IsoRecords.Field(s.Slice(776, 37), "", joliet);
        IsoDateTimeWriter.WriteLong(s[813..], volumeTime);
        IsoDateTimeWriter.WriteLong(s[830..], volumeTime);
        IsoDateTimeWriter.WriteLong(s[847..], null);
        IsoDateTimeWriter.WriteLong(s[864..], volumeTime);
        s[881] = 1;
    }

    private static string Upper(string s) => s.ToUpperInvariant();

    private void WritePathTable(List<IsoNode> dirs, uint block, bool joliet, bool bigEndian)
    {
        _sink.SkipTo((long)block * SectorSize);
        foreach (var d in dirs)
        {
            byte[] id = d.Parent is null ? [0] : joliet ? IsoRecords.JolietIdentifier(d.JolietName) : IsoRecords.IsoIdentifier(d.IsoName);
            ushort parent = d.Parent is null ? (ushort)1 : joliet ? d.Parent.JolietDirNumber : d.Parent.DirNumber;
            int len = IsoRecords.PathRecordLength(id.Length);
            IsoRecords.WritePathRecord(_sink.GetSpan(len), bigEndian, joliet ? d.JolietExtent : d.Extent, parent, id);
            _sink.Advance(len);
        }
        _sink.Align(SectorSize);
    }

    /// <summary>Starts a record at the next block when it would cross the current one.</summary>
    private void RecordBoundary(int length)
    {
        if (_sink.Position % SectorSize + length > SectorSize) _sink.Align(SectorSize);
    }

    private void WriteIsoDirectory(IsoNode dir)
    {
        _sink.SkipTo((long)dir.Extent * SectorSize);
        var listing = layout.LaidOut(dir, withJoliet: false);
        var children = listing.Entries;
        var placer = new ContinuationCursor(dir.Extent + (ulong)dir.IsoDirBytes / SectorSize);
        var areas = new List<(int Index, List<byte[]> Entries, int Inline, ContinuationArea Area)>();
        int lastPiece = -1;
        long remaining = 0;
        uint pieceExtent = 0;
        Span<byte> su = stackalloc byte[256];
        Span<byte> id = stackalloc byte[256];
        foreach (var r in layout.IsoRecordsOf(dir, listing))
        {
            var area = placer.Place(dir, r); // in record order, as the planner did
            int suLength = 0;
            if (r.Entries is not null)
            {
                suLength = IsoRockRidgeWriter.WriteInline(su, r.Entries, r.Inline, area.Block, area.Offset, area.Length);
                if (r.Inline < r.Entries.Count && (areas.Count == 0 || r.Role != SuRole.Entry || areas[^1].Index != r.Index))
                    areas.Add((r.Role == SuRole.Entry ? r.Index : -1, r.Entries, r.Inline, area));
            }
            RecordBoundary(r.Length);
            var span = _sink.GetSpan(r.Length);
            switch (r.Role)
            {
                case SuRole.Self:
                    IsoRecords.WriteRecord(span, dir.Extent, dir.IsoDirBytes, dir.ModifiedSeconds, Flags(dir.Hidden, FlagDirectory), [0], su[..suLength]);
                    break;
                case SuRole.Parent:
                    var p = dir.Parent ?? dir;
                    IsoRecords.WriteRecord(span, p.Extent, p.IsoDirBytes, p.ModifiedSeconds, FlagDirectory, [1], su[..suLength]);
                    break;
                default:
                    ref var c = ref children[r.Index];
                    uint extent, length;
                    byte flags;
                    if (c.IsDirectory) (extent, length, flags) = (c.Node!.Extent, c.Node.IsoDirBytes, FlagDirectory);
                    else if (!c.HasContent) (extent, length, flags) = (0, 0, 0);
                    else
                    {
                        // Multi-extent: pieces of 4 GiB - 2 KiB; every piece but the last has flag bit 7.
                        if (lastPiece != r.Index) { lastPiece = r.Index; remaining = c.Size; pieceExtent = c.Extent; }
                        length = (uint)Math.Min(remaining, IsoRecords.MaxExtentBytes);
                        extent = pieceExtent;
                        remaining -= length;
                        pieceExtent += length / SectorSize;
                        flags = remaining > 0 ? FlagMultiExtent : (byte)0;
                    }
                    int idLength = Encoding.ASCII.GetBytes(children.Text(c.IsoName), id);
                    IsoRecords.WriteRecord(span, extent, length, c.Modified, Flags(c.Hidden, flags), id[..idLength], su[..suLength]);
                    break;
            }
            _sink.Advance(r.Length);
        }
        _sink.Align(SectorSize);
        foreach (var (_, entries, inline, area) in areas)
        {
            _sink.SkipTo((long)area.Block * SectorSize + area.Offset);
            IsoRockRidgeWriter.WriteContinuation(_sink.GetSpan(area.Length), entries, inline);
            _sink.Advance(area.Length);
        }
        _sink.Align(SectorSize);
    }

    private static byte Flags(bool hidden, byte flags) => (byte)(flags | (hidden ? FlagHidden : 0));

    private void WriteJolietDirectory(IsoNode dir)
    {
        _sink.SkipTo((long)dir.JolietExtent * SectorSize);
        void Record(uint extent, uint length, long mtime, byte flags, ReadOnlySpan<byte> id)
        {
            int len = IsoRecords.RecordLength(id.Length, 0);
            RecordBoundary(len);
            IsoRecords.WriteRecord(_sink.GetSpan(len), extent, length, mtime, flags, id, []);
            _sink.Advance(len);
        }
        var parent = dir.Parent ?? dir;
        Record(dir.JolietExtent, dir.JolietDirBytes, dir.ModifiedSeconds, Flags(dir.Hidden, FlagDirectory), [0]);
        Record(parent.JolietExtent, parent.JolietDirBytes, parent.ModifiedSeconds, FlagDirectory, [1]);
        var listing = layout.LaidOut(dir, withJoliet: true);
        var children = listing.Entries;
        Span<byte> id = stackalloc byte[256];
        foreach (int i in listing.Joliet!)
        {
            ref var n = ref children[i];
            var name = id[..Encoding.BigEndianUnicode.GetBytes(children.Text(n.JolietName), id)];
            if (n.IsDirectory) { Record(n.Node!.JolietExtent, n.Node.JolietDirBytes, n.Modified, Flags(n.Hidden, FlagDirectory), name); continue; }
            if (!n.HasContent) { Record(0, 0, n.Modified, Flags(n.Hidden, 0), name); continue; }
            long remaining = n.Size;
            uint extent = n.Extent;
            do
            {
                uint length = (uint)Math.Min(remaining, IsoRecords.MaxExtentBytes);
                remaining -= length;
                Record(extent, length, n.Modified, Flags(n.Hidden, remaining > 0 ? FlagMultiExtent : (byte)0), name);
                extent += length / SectorSize;
            } while (remaining > 0);
        }
        _sink.Align(SectorSize);
    }
}
