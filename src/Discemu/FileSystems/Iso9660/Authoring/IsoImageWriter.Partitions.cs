using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660.Authoring;

internal sealed partial class IsoImageWriter
{
    private long TotalBytes => (long)layout.VolumeBlocks * SectorSize + IsoPartitionWriter.TrailerBytes(efiBytes, _o.Gpt);

    /// <summary>The isohybrid MBR, the protective MBR and primary GPT, or the MBR of the appended partition, in the system area.</summary>
    private void WriteSystemArea()
    {
        if (hybridTemplate is null && !_o.Gpt && efiBytes == 0) return;
        var head = new byte[IsoPartitionWriter.Lba * 34];
        if (hybridTemplate is not null) IsoHybridWriter.Build(hybridTemplate, boots[0].Image.Extent, layout.VolumeBlocks, _o.VolumeId).CopyTo(head, 0);
        IsoPartitionWriter.WriteHead(head, hybridTemplate is not null, _o.Gpt, layout.VolumeBlocks, efiBytes, TotalBytes, _o.VolumeId);
        _sink.Write(head);
    }

    /// <summary>The appended EFI partition (padded to 2 KiB) and the backup GPT, after the ISO volume.</summary>
    private void WriteTrailer()
    {
        if (efiBytes > 0)
        {
            string path = _o.EfiPartition!;
            try
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                long offset = 0;
                while (offset < efiBytes)
                {
                    int want = (int)Math.Min(ReadChunk, efiBytes - offset);
                    var span = _sink.GetSpan(want);
                    int n = RandomAccess.Read(handle, span, offset);
                    if (n <= 0) throw new ImageAccessException($"EFI partition image '{path}' shrank while it was written.", path);
                    _sink.Advance(n);
                    offset += n;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ImageAccessException($"Cannot read '{path}': {e.Message}", path, e);
            }
            _sink.SkipTo((long)layout.VolumeBlocks * SectorSize + IsoPartitionWriter.RoundUp(efiBytes));
        }
        if (_o.Gpt) _sink.Write(IsoPartitionWriter.Tail(layout.VolumeBlocks, efiBytes, TotalBytes, _o.VolumeId));
    }
}
