using System.Buffers;
using System.Buffers.Binary;

namespace Discemu.Formats.Cue;

public sealed partial class CueImage
{
    /// <summary>Damaged sectors named one by one before the rest are only counted.</summary>
    internal const int MaxReportedSectors = 1000;

    /// <summary>
    /// Verifies every raw data sector (MODE1/2352, MODE2/2352, MODE2/2336 tracks; audio and MODE1/2048 carry no
    /// check bytes): the sync pattern, the header's mode and address (consecutive within the track), and the EDC and
    /// ECC (Mode 1 and Mode 2 Form 1: both; Form 2: the EDC unless it is zero, which means "not computed"). Each
    /// damaged sector counts as one corruption and is named by LBA and MSF. Nothing can be repaired.
    /// </summary>
    /// <exception cref="ImageAccessException">A file cannot be read.</exception>
    public ImageCheckResult Check(CheckRepair repair)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var result = new ImageCheckResult();
        long checkedSectors = 0;
        foreach (var track in Tracks)
        {
            if (track.Mode is CdTrackMode.Audio or CdTrackMode.Mode1Cooked) continue;
            CheckTrack(track, result);
            checkedSectors += track.Length;
        }
        if (result.Corruptions > MaxReportedSectors)
            result.Messages.Add($"ERROR ... and {result.Corruptions - MaxReportedSectors} more damaged sectors.");
        result.Messages.Add($"Checked {checkedSectors} raw data sectors: {result.Corruptions} damaged.");
        return result;
    }

    private void CheckTrack(CueTrack track, ImageCheckResult result)
    {
        int size = track.SectorSize;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ExtractSectors * size);
        var sector = new byte[CdConstants.RawSectorSize];
        long firstAddress = -1;
        try
        {
            for (long s = 0; s < track.Length; )
            {
                int count = (int)Math.Min(track.Length - s, ExtractSectors);
                ReadSectors(track, s, count, buffer);
                for (int i = 0; i < count; i++, s++)
                {
                    var stored = buffer.AsSpan(i * size, size);
                    if (size == CdConstants.Mode2SectorSize)
                    {
                        // Rebuild a raw sector around a headerless one: its checks never cover the header.
                        sector.AsSpan(0, CdConstants.HeaderEnd).Clear();
                        CdConstants.Sync.CopyTo(sector);
                        sector[15] = 2;
                        stored.CopyTo(sector.AsSpan(CdConstants.HeaderEnd));
                    }
                    else stored.CopyTo(sector);
                    string? problem = SectorProblem(sector, track.Mode, size == CdConstants.Mode2SectorSize, s, ref firstAddress);
                    if (problem is null) continue;
                    result.Corruptions++;
                    if (result.Corruptions <= MaxReportedSectors)
                        result.Messages.Add($"ERROR sector LBA {track.Start + s} (MSF {Msf.FormatLba(track.Start + s)}), track {track.Number}: {problem}");
                }
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>What is wrong with one raw sector, or null when it is sound.</summary>
    /// <param name="sector">The 2352-byte sector.</param>
    /// <param name="mode">The track's mode.</param>
    /// <param name="headerless">The sector was stored without sync and header (nothing to check there).</param>
    /// <param name="index">The sector's index in its track.</param>
    /// <param name="firstAddress">The address in the track's first readable header, or -1 (set here).</param>
    internal static string? SectorProblem(byte[] sector, CdTrackMode mode, bool headerless, long index, ref long firstAddress)
    {
        var s = sector.AsSpan();
        if (!headerless)
        {
            if (!s[..CdConstants.SyncSize].SequenceEqual(CdConstants.Sync)) return "bad sync pattern";
            int m = Msf.FromBcd(s[12]), sec = Msf.FromBcd(s[13]), f = Msf.FromBcd(s[14]);
            if (m < 0 || sec < 0 || f < 0 || sec >= 60 || f >= CdConstants.FramesPerSecond) return $"bad header address {s[12]:X2}:{s[13]:X2}:{s[14]:X2}";
            long address = (long)m * CdConstants.FramesPerMinute + sec * CdConstants.FramesPerSecond + f;
            if (firstAddress < 0) firstAddress = address - index;
            else if (address != firstAddress + index) return $"header address {Msf.Format(address)} out of sequence (expected {Msf.Format(firstAddress + index)})";
            byte expectedMode = mode == CdTrackMode.Mode1Raw ? (byte)1 : (byte)2;
            if (s[15] == 0) return s[CdConstants.HeaderEnd..].ContainsAnyExcept((byte)0) ? "mode 0 sector with non-zero data" : null;
            if (s[15] != expectedMode) return $"header mode {s[15]} in a {CueSheet.ModeName(mode)} track";
        }
        if (mode == CdTrackMode.Mode1Raw)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(s[CdConstants.Mode1EdcOffset..]) != CdSector.Edc(s[..CdConstants.Mode1EdcOffset])) return "EDC mismatch";
            if (!CdSector.EccValid(s)) return "ECC mismatch";
            return null;
        }
        if (!s.Slice(CdConstants.SubheaderOffset, 4).SequenceEqual(s.Slice(CdConstants.SubheaderOffset + 4, 4))) return "the two copies of the XA subheader differ";
        if ((s[CdConstants.SubheaderOffset + 2] & CdConstants.SubmodeForm2) != 0)
        {
            uint edc = BinaryPrimitives.ReadUInt32LittleEndian(s[CdConstants.Form2EdcOffset..]);
            return edc != 0 && edc != CdSector.Edc(s[CdConstants.SubheaderOffset..CdConstants.Form2EdcOffset]) ? "EDC mismatch (Form 2)" : null;
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(s[CdConstants.Form1EdcOffset..]) != CdSector.Edc(s[CdConstants.SubheaderOffset..CdConstants.Form1EdcOffset])) return "EDC mismatch (Form 1)";
        // Form 1's ECC is computed with the header taken as zero.
        Span<byte> header = stackalloc byte[4];
        s.Slice(CdConstants.SyncSize, 4).CopyTo(header);
        s.Slice(CdConstants.SyncSize, 4).Clear();
        bool ecc = CdSector.EccValid(s);
        header.CopyTo(s[CdConstants.SyncSize..]);
        return ecc ? null : "ECC mismatch (Form 1)";
    }
}
