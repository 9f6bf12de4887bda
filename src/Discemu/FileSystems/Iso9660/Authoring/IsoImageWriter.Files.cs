using System.Runtime.ExceptionServices;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660.Authoring;

internal sealed partial class IsoImageWriter
{
    /// <summary>
    /// Writes every file's content to its extent, in order, from the pieces <see cref="IsoFileReader"/> reads ahead on
    /// another thread; the gaps (block padding, holes) read as zeros.
    /// </summary>
    private void WriteFiles(CancellationToken cancel)
    {
        var infoTables = new HashSet<IsoNode>();
        foreach (var b in boots) if (b.Entry.BootInfoTable && b.Media == BootMedia.NoEmulation) infoTables.Add(b.Image);
        using var reader = new IsoFileReader(layout.Files, infoTables, cancel);
        while (reader.TryNext(out var piece))
        {
            try
            {
                if (piece.Error is not null) ExceptionDispatchInfo.Throw(piece.Error);
                _sink.SkipTo((long)layout.Files[piece.FileIndex].Extent * SectorSize + piece.Offset);
                _sink.Write(piece.Buffer.AsSpan(0, piece.Length));
            }
            finally
            {
                IsoFileReader.Return(piece);
            }
        }
        cancel.ThrowIfCancellationRequested();
    }
}
