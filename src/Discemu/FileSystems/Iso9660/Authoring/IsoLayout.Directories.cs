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
        // One pass over records made on the fly, rather than a list of every record's entries.
        var areas = new ContinuationCursor(0);
        long pos = 0;
        foreach (var r in IsoRecordsOf(dir, children))
        {
            pos = AddRecord(pos, r.Length);
            areas.Place(dir, r);
        }
        dir.IsoDirBytes = WholeBlocks(pos);
        dir.Dir!.CeBlocks = areas.Blocks;
    }
}

/// <summary>
/// Places the Rock Ridge continuation areas of one directory's records, in record order, in the blocks from the
/// first one given (areas never cross a block; the records of a multi-extent file share one area).
/// </summary>
internal struct ContinuationCursor(ulong firstBlock)
{
    private readonly ulong _first = firstBlock;
    private ulong _block = firstBlock;
    private int _used;
    private bool _any;
    private IsoNode? _last;

    /// <summary>Blocks the areas placed so far take.</summary>
    public readonly uint Blocks => (uint)((_any ? _block + 1 : _block) - _first);

    /// <summary>Gives <paramref name="r"/>'s node its area (block, offset, length) when some of its entries do not fit the record.</summary>
    /// <exception cref="UnsupportedFeatureException">The "." or ".." record of a directory other than the root needs an area.</exception>
    public void Place(IsoNode dir, in IsoLayout.PlannedRecord r)
    {
        if (r.Entries is null || r.Inline == r.Entries.Count || ReferenceEquals(r.Node, _last)) return;
        if (r.Role == SuRole.Parent || (r.Role == SuRole.Self && dir.Parent is not null))
            throw new UnsupportedFeatureException($"The Rock Ridge data of the '.' or '..' record of '{dir.TreePath}' does not fit.");
        _last = r.Node;
        int length = 0;
        for (int i = r.Inline; i < r.Entries.Count; i++) length += r.Entries[i].Length;
        if (_used + length > SectorSize) { _block++; _used = 0; }
        r.Node.CeBlock = unchecked((uint)_block);
        r.Node.CeOffset = (ushort)_used;
        r.Node.CeLength = (ushort)length;
        _used += length;
        _any = true;
    }
}
