using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660.Authoring;

internal sealed partial class IsoLayout
{
    /// <summary>
    /// One directory record as the writer emits it: the directory's "." (<see cref="SuRole.Self"/>), its ".."
    /// (<see cref="SuRole.Parent"/>) or the entry at <paramref name="Index"/> (one record per piece of a multi-extent file).
    /// </summary>
    internal readonly record struct PlannedRecord(SuRole Role, int Index, int Length, int Inline, List<byte[]>? Entries);

    /// <summary>The ISO 9660 records of <paramref name="dir"/> in order ("." and ".." first), with their Rock Ridge entries.</summary>
    public IEnumerable<PlannedRecord> IsoRecordsOf(IsoNode dir, IsoListing listing)
    {
        bool rr = Options.RockRidge;
        var children = listing.Entries;
        yield return Make(SuRole.Self, -1, 1);
        yield return Make(SuRole.Parent, -1, 1);
        foreach (int i in listing.Iso)
        {
            var r = Make(SuRole.Entry, i, children[i].IsoName.Length);
            for (int k = ExtentCount(children[i]); k > 0; k--) yield return r;
        }

        PlannedRecord Make(SuRole role, int index, int idLength)
        {
            if (!rr) return new PlannedRecord(role, index, IsoRecords.RecordLength(idLength, 0), 0, null);
            var entries = role == SuRole.Entry
                ? IsoRockRidgeWriter.Entries(children[index], children, SuRole.Entry, false, Options.RationalRockRidge)
                : IsoRockRidgeWriter.Entries(IsoRockRidgeWriter.Attributes(role == SuRole.Self ? dir : dir.Parent ?? dir), children, role,
                    role == SuRole.Self && dir.Parent is null, Options.RationalRockRidge);
            int baseLength = DirectoryRecordHeaderLength + idLength + ((idLength & 1) == 0 ? 1 : 0);
            var (inline, inlineBytes, rest) = IsoRockRidgeWriter.Pack(entries, 254 - baseLength);
            if (rest > IsoRockRidgeWriter.MaxContinuationArea)
            {
                string path = role == SuRole.Entry ? children.TreePath(index) : dir.TreePath;
                throw new UnsupportedFeatureException($"The Rock Ridge data of '{path}' ({inlineBytes - IsoRockRidgeWriter.CeLength + rest} bytes) needs more than one 2 KiB continuation area.",
                    role == SuRole.Entry ? children.HostPath(index) : dir.HostPath);
            }
            return new PlannedRecord(role, index, IsoRecords.RecordLength(idLength, inlineBytes), inline, entries);
        }
    }

    /// <summary>Sizes <paramref name="dir"/>'s records and the blocks of continuation areas after them.</summary>
    private void SizeIsoDirectory(IsoNode dir, IsoListing listing)
    {
        // One pass over records made on the fly, rather than a list of every record's entries.
        var areas = new ContinuationCursor(0);
        long pos = 0;
        foreach (var r in IsoRecordsOf(dir, listing))
        {
            pos = AddRecord(pos, r.Length);
            areas.Place(dir, r);
        }
        dir.IsoDirBytes = WholeBlocks(pos);
        dir.Dir!.CeBlocks = areas.Blocks;
    }
}

/// <summary>Where a record's Rock Ridge continuation area is: block, offset in it, length (all 0: none).</summary>
internal readonly record struct ContinuationArea(uint Block, ushort Offset, ushort Length);

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
    private int _lastIndex = -1;
    private ContinuationArea _last;

    /// <summary>Blocks the areas placed so far take.</summary>
    public readonly uint Blocks => (uint)((_any ? _block + 1 : _block) - _first);

    /// <summary>The area of <paramref name="r"/>: a new one when some of its entries do not fit the record, the previous one for the next piece of a multi-extent file, else none.</summary>
    /// <exception cref="UnsupportedFeatureException">The "." or ".." record of a directory other than the root needs an area.</exception>
    public ContinuationArea Place(IsoNode dir, in IsoLayout.PlannedRecord r)
    {
        if (r.Entries is null || r.Inline == r.Entries.Count) return default;
        if (r.Role == SuRole.Entry && r.Index == _lastIndex) return _last;
        if (r.Role == SuRole.Parent || (r.Role == SuRole.Self && dir.Parent is not null))
            throw new UnsupportedFeatureException($"The Rock Ridge data of the '.' or '..' record of '{dir.TreePath}' does not fit.");
        _lastIndex = r.Role == SuRole.Entry ? r.Index : -1;
        int length = 0;
        for (int i = r.Inline; i < r.Entries.Count; i++) length += r.Entries[i].Length;
        if (_used + length > SectorSize) { _block++; _used = 0; }
        _last = new ContinuationArea(unchecked((uint)_block), (ushort)_used, (ushort)length);
        _used += length;
        _any = true;
        return _last;
    }
}
