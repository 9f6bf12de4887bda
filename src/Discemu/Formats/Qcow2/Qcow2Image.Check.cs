namespace Discemu.Formats.Qcow2;

public sealed partial class Qcow2Image : ICheckableImage, IEmptyableImage
{
    /// <summary>Checks (and with <paramref name="repair"/> fixes) the refcounts and tables, like <c>qemu-img check</c>.</summary>
    /// <exception cref="NotSupportedException">A repair was asked for on an image opened read-only.</exception>
    /// <exception cref="CorruptImageException">The metadata is too damaged to check.</exception>
    public ImageCheckResult Check(CheckRepair repair)
    {
        if (repair != CheckRepair.None && !CanWrite) throw new NotSupportedException("Repairing needs the image opened for writing.");
        lock (_lock)
        {
            // The checker reads and repairs the file directly: put everything cached on disk first,
            // and reload afterwards in case it rewrote metadata.
            if (CanWrite) Flush();
            var result = Qcow2Checker.Check(File, Path, repair);
            if (repair != CheckRepair.None) InvalidateCaches();
            return result;
        }
    }
}
