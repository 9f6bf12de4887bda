using System.Buffers.Binary;
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
        var children = layout.LaidOut(dir);
        var placer = new ContinuationCursor(dir.Extent + (ulong)dir.IsoDirBytes / SectorSize);
        var areas = new List<(IsoNode Node, List<byte[]> Entries, int Inline)>();
        IsoNode? lastPiece = null;
        long remaining = 0;
        uint pieceExtent = 0;
        Span<byte> su = stackalloc byte[256];
        foreach (var r in layout.IsoRecordsOf(dir, children))
        {
            var n = r.Node;
            placer.Place(dir, r); // in record order, as the planner did
            int suLength = 0;
            if (r.Entries is not null)
            {
                suLength = IsoRockRidgeWriter.WriteInline(su, r.Entries, r.Inline, n.CeBlock, n.CeOffset, n.CeLength);
                if (r.Inline < r.Entries.Count && !ReferenceEquals(areas.LastOrDefault().Node, n)) areas.Add((n, r.Entries, r.Inline));
            }
            RecordBoundary(r.Length);
            var span = _sink.GetSpan(r.Length);
            switch (r.Role)
            {
                case SuRole.Self:
                    IsoRecords.WriteRecord(span, n.Extent, n.IsoDirBytes, n.ModifiedSeconds, Flags(n, FlagDirectory), [0], su[..suLength]);
                    break;
                case SuRole.Parent:
                    IsoRecords.WriteRecord(span, n.Extent, n.IsoDirBytes, n.ModifiedSeconds, FlagDirectory, [1], su[..suLength]);
                    break;
                default:
                    uint extent, length;
                    byte flags;
                    if (n.IsDirectory) (extent, length, flags) = (n.Extent, n.IsoDirBytes, FlagDirectory);
                    else if (!n.HasContent) (extent, length, flags) = (0, 0, 0);
                    else
                    {
                        // Multi-extent: pieces of 4 GiB - 2 KiB; every piece but the last has flag bit 7.
                        if (!ReferenceEquals(lastPiece, n)) { lastPiece = n; remaining = n.Size; pieceExtent = n.Extent; }
                        length = (uint)Math.Min(remaining, IsoRecords.MaxExtentBytes);
                        extent = pieceExtent;
                        remaining -= length;
                        pieceExtent += length / SectorSize;
                        flags = remaining > 0 ? FlagMultiExtent : (byte)0;
                    }
                    IsoRecords.WriteRecord(span, extent, length, n.ModifiedSeconds, Flags(n, flags), IsoRecords.IsoIdentifier(n.IsoName), su[..suLength]);
                    break;
            }
            _sink.Advance(r.Length);
        }
        _sink.Align(SectorSize);
        foreach (var (node, entries, inline) in areas)
        {
            _sink.SkipTo((long)node.CeBlock * SectorSize + node.CeOffset);
            int len = node.CeLength;
            IsoRockRidgeWriter.WriteContinuation(_sink.GetSpan(len), entries, inline);
            _sink.Advance(len);
        }
        _sink.Align(SectorSize);
    }

    private static byte Flags(IsoNode n, byte flags) => (byte)(flags | (n.Hidden ? FlagHidden : 0));

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
        Record(dir.JolietExtent, dir.JolietDirBytes, dir.ModifiedSeconds, Flags(dir, FlagDirectory), [0]);
        Record(parent.JolietExtent, parent.JolietDirBytes, parent.ModifiedSeconds, FlagDirectory, [1]);
        layout.LaidOut(dir, out var children);
        foreach (var n in children!)
        {
            var id = IsoRecords.JolietIdentifier(n.JolietName);
            if (n.IsDirectory) { Record(n.JolietExtent, n.JolietDirBytes, n.ModifiedSeconds, Flags(n, FlagDirectory), id); continue; }
            if (!n.HasContent) { Record(0, 0, n.ModifiedSeconds, Flags(n, 0), id); continue; }
            long remaining = n.Size;
            uint extent = n.Extent;
            do
            {
                uint length = (uint)Math.Min(remaining, IsoRecords.MaxExtentBytes);
                remaining -= length;
                Record(extent, length, n.ModifiedSeconds, Flags(n, remaining > 0 ? FlagMultiExtent : (byte)0), id);
                extent += length / SectorSize;
            } while (remaining > 0);
        }
        _sink.Align(SectorSize);
    }
}
