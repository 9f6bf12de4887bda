using System.Buffers.Binary;
using Discemu.Block;

namespace Discemu.Formats.Cue;

/// <summary>
/// The RIFF/WAVE container as CD audio uses it (Microsoft's RIFF specification): a "RIFF" header with form type
/// "WAVE", a "fmt " chunk (PCM, 2 channels, 44100 Hz, 16 bits) and a "data" chunk holding the samples.
/// </summary>
internal static class WaveFile
{
    private const uint Riff = 0x46464952;   // "RIFF" read little-endian
    private const uint Wave = 0x45564157;   // "WAVE"
    private const uint Fmt = 0x20746D66;    // "fmt "
    private const uint Data = 0x61746164;   // "data"
    private const ushort FormatPcm = 1;
    private const int Channels = 2;
    private const int BitsPerSample = 16;
    private const int MaxChunks = 1000;

    /// <summary>Finds the data chunk of a WAVE file holding CD audio: its offset and length (clamped to the file).</summary>
    /// <exception cref="CorruptImageException">The file is not RIFF/WAVE or has no data chunk.</exception>
    /// <exception cref="UnsupportedFeatureException">The samples are not 44.1 kHz 16-bit stereo PCM.</exception>
    public static (long Offset, long Length) FindData(BlockDevice file, string path)
    {
        long length = file.Length;
        Span<byte> head = stackalloc byte[12];
        if (length < 12) throw new CorruptImageException("The WAVE file is too short for a RIFF header.", path);
        file.Read(0, head);
        if (BinaryPrimitives.ReadUInt32LittleEndian(head) != Riff || BinaryPrimitives.ReadUInt32LittleEndian(head[8..]) != Wave)
            throw new CorruptImageException("The WAVE file has no RIFF/WAVE header.", path);
        bool sawFormat = false;
        long pos = 12;
        Span<byte> chunk = stackalloc byte[8];
        Span<byte> fmt = stackalloc byte[16];
        for (int n = 0; n < MaxChunks && pos <= length - 8; n++)
        {
            file.Read(pos, chunk);
            uint id = BinaryPrimitives.ReadUInt32LittleEndian(chunk);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            long body = pos + 8;
            if (id == Fmt)
            {
                if (size < 16 || body + 16 > length) throw new CorruptImageException("The WAVE file's fmt chunk is truncated.", path);
                file.Read(body, fmt);
                ushort format = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
                ushort channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
                uint rate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
                ushort bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
                if (format != FormatPcm || channels != Channels || rate != CdConstants.AudioSampleRate || bits != BitsPerSample)
                    throw new UnsupportedFeatureException($"The WAVE file holds format {format}, {channels} channels, {rate} Hz, {bits} bits: only CD audio (PCM, 2 channels, 44100 Hz, 16 bits) is supported.", path);
                sawFormat = true;
            }
            else if (id == Data)
            {
                if (!sawFormat) throw new CorruptImageException("The WAVE file's data chunk comes before its fmt chunk.", path);
                return (body, Math.Min(size, length - body));
            }
            pos = body + size + (size & 1);
        }
        throw new CorruptImageException("The WAVE file has no data chunk.", path);
    }

    /// <summary>Writes the 44-byte canonical header of a CD-audio WAVE file holding <paramref name="dataLength"/> bytes of samples.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The data does not fit a RIFF file (4 GiB).</exception>
    public static void WriteHeader(Span<byte> header, long dataLength)
    {
        if (dataLength < 0 || dataLength > uint.MaxValue - 36) throw new ArgumentOutOfRangeException(nameof(dataLength), "The audio does not fit a WAVE file.");
        BinaryPrimitives.WriteUInt32LittleEndian(header, Riff);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(dataLength + 36));
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Wave);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], Fmt);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], FormatPcm);
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], Channels);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], CdConstants.AudioSampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], CdConstants.AudioSampleRate * Channels * BitsPerSample / 8);
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], Channels * BitsPerSample / 8);
        BinaryPrimitives.WriteUInt16LittleEndian(header[34..], BitsPerSample);
        BinaryPrimitives.WriteUInt32LittleEndian(header[36..], Data);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], (uint)dataLength);
    }
}
