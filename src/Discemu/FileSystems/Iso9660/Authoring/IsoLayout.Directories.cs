using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660.Authoring;

internal sealed partial class IsoLayout
{
    /// <summary>One directory record as the writer emits it.</summary>
    internal readonly record struct PlannedRecord(IsoNode Node, SuRole Role, int Length, int Inline, List<byte[]>? Entries);

    /// <summary>The ISO 9660 records of <paramref name="dir"/> in order ("." and ".." first), with their Rock Ridge entries; <paramref name="children"/> in record order.</summary>
    public IEnumerable<PlannedRecord> IsoRecordsOf(IsoNode dir, List<IsoNode> children)
    {
        bool rr = Options.RockRidge;
        yield return Make(dir, SuRole.Self, 1);
        yield return Make(dir.Parent ?? dir, SuRole.Parent, 1);
        foreach (var c in children)
        {
            var r = Make(c, SuRole.Entry, c.IsoName.Length);
            for (int i = 0; i < ExtentCount(c); i++) yield return r;
        }

        PlannedRecord Make(IsoNode node, SuRole role, int idLength)
        {
            if (!rr) return new PlannedRecord(node, role, IsoRecords.RecordLength(idLength, 0), 0, null);
            var entries = IsoRockRidgeWriter.Entries(node, role, role == SuRole.Self && dir.Parent is null, Options.RationalRockRidge);
            int baseLength = DirectoryRecordHeaderLength + idLength + ((idLength & 1) == 0 ? 1 : 0);
            var (inline, inlineBytes, _) = IsoRockRidgeWriter.Pack(entries, 254 - baseLength, node);
            return new PlannedRecord(node, role, IsoRecords.RecordLength(idLength, inlineBytes), inline, entries);
        }
    }

    /// <summary>Sizes <paramref name="dir"/>'s records and the blocks of continuation areas after them (<paramref name="children"/> in record order).</summary>
    private void SizeIsoDirectory(IsoNode dir, List<IsoNode> children)
    {
        // Two passes over the records, made again each time, rather than a list of every record's entries.
        dir.IsoDirBytes = DirectoryBytes(IsoRecordsOf(dir, children).Select(r => r.Length));
        dir.Dir!.CeBlocks = PlaceContinuations(dir, IsoRecordsOf(dir, children), 0);
    }

    /// <summary>
    /// Places the continuation areas of <paramref name="records"/> (<paramref name="dir"/>'s) in the blocks from
    /// <paramref name="ceBlock"/> (areas never cross a block); returns the number of blocks they take.
    /// </summary>
    public uint PlaceContinuations(IsoNode dir, IEnumerable<PlannedRecord> records, ulong ceBlock)
    {
        ulong first = ceBlock;
        int ceUsed = 0;
        bool any = false;
        IsoNode? last = null;
        foreach (var r in records)
        {
            if (r.Entries is null || r.Inline == r.Entries.Count || ReferenceEquals(r.Node, last)) continue;
            if (r.Role == SuRole.Parent || (r.Role == SuRole.Self && dir.Parent is not null))
                throw new UnsupportedFeatureException($"The Rock Ridge data of the '.' or '..' record of '{dir.TreePath}' does not fit.");
            last = r.Node; // the records of one multi-extent file share one area
            int length = r.Entries.Skip(r.Inline).Sum(e => e.Length);
            if (ceUsed + length > SectorSize) { ceBlock++; ceUsed = 0; }
            r.Node.CeBlock = unchecked((uint)ceBlock);
            r.Node.CeOffset = (ushort)ceUsed;
            r.Node.CeLength = (ushort)length;
            ceUsed += length;
            any = true;
        }
        return (uint)((any ? ceBlock + 1 : ceBlock) - first);
    }
}
