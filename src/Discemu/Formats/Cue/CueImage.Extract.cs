using System.Buffers;

namespace Discemu.Formats.Cue;

public sealed partial class CueImage
{
    /// <summary>Sectors copied per step when extracting.</summary>
    private const int ExtractSectors = 64;

    /// <summary>The file name <see cref="ExtractTrack"/> output is usually saved under: <c>{prefix}NN.iso</c> or <c>{prefix}NN.wav</c>.</summary>
    public static string TrackFileName(CueTrack track, string prefix = "track")
    {
        ArgumentNullException.ThrowIfNull(track);
        return $"{prefix}{track.Number:00}.{(track.IsData ? "iso" : "wav")}";
    }

    /// <summary>
    /// Writes one track to <paramref name="output"/> the way bchunk does: a data track as its 2048-byte user data
    /// (Mode 1 data, Mode 2 Form 1 data at offset 24), an audio track as a WAVE file (44.1 kHz, 16-bit, stereo,
    /// little-endian; MOTOROLA samples are swapped). Only the stored sectors from INDEX 01 to the track's end are
    /// written: neither a stored pregap (INDEX 00) nor PREGAP/POSTGAP silence.
    /// </summary>
    /// <returns>The bytes written.</returns>
    /// <exception cref="ArgumentException">The track is not one of this image's.</exception>
    /// <exception cref="ImageAccessException">A file cannot be read.</exception>
    public long ExtractTrack(CueTrack track, Stream output)
    {
        ArgumentNullException.ThrowIfNull(track);
        ArgumentNullException.ThrowIfNull(output);
        if (!Tracks.Contains(track)) throw new ArgumentException("The track is not one of this image's.", nameof(track));
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        int size = track.SectorSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ExtractSectors * size);
        try
        {
            long written = 0;
            if (track.IsData)
            {
                long total = track.Length * CdConstants.UserDataSize;
                for (long pos = 0; pos < total; )
                {
                    int n = (int)Math.Min(total - pos, ExtractSectors * CdConstants.UserDataSize);
                    ReadUserData(track, pos, buffer.AsSpan(0, n));
                    output.Write(buffer, 0, n);
                    pos += n;
                }
                return total;
            }
            long dataLength = track.Length * size;
            WaveFile.WriteHeader(buffer.AsSpan(0, CdConstants.WavHeaderSize), dataLength);
            output.Write(buffer, 0, CdConstants.WavHeaderSize);
            written += CdConstants.WavHeaderSize;
            bool swap = Sheet.Files[track.FileIndex].Type == CueFileType.Motorola;
            for (long s = 0; s < track.Length; )
            {
                int count = (int)Math.Min(track.Length - s, ExtractSectors);
                var span = buffer.AsSpan(0, count * size);
                ReadSectors(track, s, count, span);
                if (swap) SwapSamples(span);
                output.Write(span);
                s += count;
                written += span.Length;
            }
            return written;
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }
}
