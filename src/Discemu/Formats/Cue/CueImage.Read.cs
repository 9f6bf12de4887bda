using System.Buffers;
using System.Buffers.Binary;
using Discemu.Block;

namespace Discemu.Formats.Cue;

public sealed partial class CueImage
{
    /// <summary>Raw sectors read at once when gathering user data.</summary>
    private const int SectorsPerRead = 32;

    /// <summary>Where a data track's 2048 bytes of user data start in each stored sector.</summary>
    internal static int UserDataOffset(CdTrackMode mode) => mode switch
    {
        CdTrackMode.Mode1Raw => CdConstants.Mode1DataOffset,
        CdTrackMode.Mode2Raw => CdConstants.Mode2DataOffset,
        CdTrackMode.Mode2Headerless => CdConstants.Mode2DataOffset - CdConstants.HeaderEnd,
        _ => 0,
    };

    /// <inheritdoc/>
    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        // CheckRange has bounded the read to Length, so a data track exists when the buffer is not empty.
        if (buffer.IsEmpty || _dataTrack is null) return;
        ReadUserData(_dataTrack, offset, buffer);
    }

    /// <summary>Reads user data of a data track: <paramref name="offset"/> counts 2048-byte sectors of user data.</summary>
    internal void ReadUserData(CueTrack track, long offset, Span<byte> buffer)
    {
        var file = _files[track.FileIndex];
        int size = track.SectorSize;
        if (size == CdConstants.UserDataSize)
        {
            file.Read(track.FileOffset + offset, buffer);
            return;
        }
        int dataOffset = UserDataOffset(track.Mode);
        byte[] raw = ArrayPool<byte>.Shared.Rent(SectorsPerRead * size);
        try
        {
            while (!buffer.IsEmpty)
            {
                long sector = offset / CdConstants.UserDataSize;
                int within = (int)(offset % CdConstants.UserDataSize);
                int sectors = (int)Math.Min(SectorsPerRead, (within + (long)buffer.Length + CdConstants.UserDataSize - 1) / CdConstants.UserDataSize);
                // The last sector of a track may not be stored in full (the file ends): the track length counts
                // only whole sectors, so this read stays inside the file.
                file.Read(track.FileOffset + sector * size, raw.AsSpan(0, sectors * size));
                for (int s = 0; s < sectors && !buffer.IsEmpty; s++)
                {
                    int n = Math.Min(buffer.Length, CdConstants.UserDataSize - within);
                    raw.AsSpan(s * size + dataOffset + within, n).CopyTo(buffer);
                    buffer = buffer[n..];
                    offset += n;
                    within = 0;
                }
            }
        }
        finally { ArrayPool<byte>.Shared.Return(raw); }
    }

    /// <summary>Reads whole stored sectors of a track (<paramref name="count"/> of them from <paramref name="first"/>, relative to INDEX 01).</summary>
    internal void ReadSectors(CueTrack track, long first, int count, Span<byte> buffer)
        => _files[track.FileIndex].Read(track.FileOffset + first * track.SectorSize, buffer[..(count * track.SectorSize)]);

    /// <summary>Swaps the bytes of each 16-bit sample (big-endian MOTOROLA audio to little-endian).</summary>
    internal static void SwapSamples(Span<byte> data)
    {
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(data[..(data.Length & ~1)]);
        BinaryPrimitives.ReverseEndianness(words, words);
    }
}
