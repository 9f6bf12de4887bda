using static Discemu.Formats.Vmdk.VmdkConstants;

namespace Discemu.Formats.Vmdk;

public sealed partial class VmdkImage
{
    /// <inheritdoc/>
    /// <remarks>
    /// Sparse extents are checked grain by grain (see the folder's README); flat extents must be as long
    /// as their extent line says. Repairs (<c>-r</c>) drop grain entries that point outside the file and
    /// rewrite redundant grain tables from the primary ones.
    /// </remarks>
    public ImageCheckResult Check(CheckRepair repair)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (repair != CheckRepair.None && !_writable) throw new NotSupportedException("The image must be opened for writing to repair it.");
        var result = new ImageCheckResult();
        for (int i = 0; i < _extents.Length; i++)
        {
            long baseSector = _starts[i] / Sector;
            try
            {
                switch (_extents[i])
                {
                    case SparseExtent sparse:
                        sparse.Check(result, repair, baseSector);
                        break;
                    case FlatExtent flat when !flat.File.IsBlockDevice && flat.File.Length < flat.Line.StartSector * Sector + flat.Length:
                        result.Corruptions++;
                        result.Messages.Add($"ERROR: {flat.Path}: the flat extent file holds {flat.File.Length} bytes, less than the {flat.Line.StartSector * Sector + flat.Length} its extent line needs.");
                        break;
                }
            }
            catch (DiscemuException e)
            {
                result.CheckErrors++;
                result.Messages.Add($"ERROR: {_extents[i].Path}: {e.Message}");
            }
        }
        if (repair != CheckRepair.None) Flush();
        return result;
    }
}
