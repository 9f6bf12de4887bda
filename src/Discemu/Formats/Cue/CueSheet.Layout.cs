namespace Discemu.Formats.Cue;

public sealed partial class CueSheet
{
    /// <summary>
    /// Places the tracks on the disc and in their files. A track runs from its INDEX 01 to the next track's first
    /// index (INDEX 00 when it has one) in the same file, or to the end of the file; a pregap stored in the file
    /// (INDEX 00 to 01) belongs to neither track's data, as bchunk treats it. PREGAP and POSTGAP add disc time that
    /// no file stores. Disc addresses start at 0 for the first file's first byte.
    /// </summary>
    /// <param name="fileDataLengths">The bytes of sector data each FILE holds (for a WAVE file, its data chunk).</param>
    /// <param name="path">The sheet's path, for error messages (may be null).</param>
    /// <exception cref="ArgumentException">The list's length is not the number of files.</exception>
    /// <exception cref="CorruptImageException">An index lies past the end of its file, or the disc is longer than any CD.</exception>
    public IReadOnlyList<CueTrack> Layout(IReadOnlyList<long> fileDataLengths, string? path)
    {
        ArgumentNullException.ThrowIfNull(fileDataLengths);
        if (fileDataLengths.Count != Files.Count) throw new ArgumentException("One length per FILE is needed.", nameof(fileDataLengths));
        var tracks = new List<CueTrack>(_entries.Count);
        long disc = 0;
        for (int f = 0; f < Files.Count; f++)
        {
            var inFile = _entries.Where(e => e.FileIndex == f).ToList();
            long fileLength = fileDataLengths[f];
            if (fileLength < 0) throw new ArgumentException("A file length is negative.", nameof(fileDataLengths));
            // Byte offset of each track's first index: sector sizes may change from track to track within a file.
            var firstByte = new long[inFile.Count];
            for (int i = 0; i < inFile.Count; i++)
            {
                long firstFrame = inFile[i].Indexes[0].Frame;
                firstByte[i] = i == 0
                    ? firstFrame * SectorSize(inFile[0].Mode)
                    : firstByte[i - 1] + (firstFrame - inFile[i - 1].Indexes[0].Frame) * SectorSize(inFile[i - 1].Mode);
            }
            for (int i = 0; i < inFile.Count; i++)
            {
                var e = inFile[i];
                int size = SectorSize(e.Mode);
                long firstFrame = e.Indexes[0].Frame;
                long index1Frame = e.Indexes.First(x => x.Number == 1).Frame;
                long start = firstByte[i] + (index1Frame - firstFrame) * size;
                long end = i + 1 < inFile.Count ? firstByte[i + 1] : fileLength;
                if (start > fileLength)
                    throw new CorruptImageException($"Track {e.Number}'s INDEX 01 lies at byte {start}, past the end of FILE '{Files[f].Name}' ({fileLength} bytes).", path);
                if (end < start)
                    throw new CorruptImageException($"Track {e.Number} ends (byte {end}) before its INDEX 01 (byte {start}).", path);
                long length = (end - start) / size;
                // The disc address of the first stored index: after the previous track (and its POSTGAP) or the
                // previous file, plus this track's PREGAP (silence no file stores).
                long firstLba = i == 0
                    ? disc + firstFrame + e.Pregap
                    : tracks[^1].Start + tracks[^1].Length + tracks[^1].Postgap + e.Pregap;
                long lba = firstLba + (index1Frame - firstFrame);
                if (lba + length + e.Postgap > CdConstants.MaxFrames) throw new CorruptImageException($"Track {e.Number} ends past any CD's length.", path);
                tracks.Add(new CueTrack
                {
                    Number = e.Number, Mode = e.Mode, FileIndex = f, Start = lba, Length = length,
                    Pregap = e.Pregap + (index1Frame - firstFrame), SilentPregap = e.Pregap, Postgap = e.Postgap,
                    FileOffset = start, Indexes = e.Indexes.Select(x => new CueIndex(x.Number, firstLba + (x.Frame - firstFrame))).ToList(),
                });
            }
            disc = tracks[^1].Start + tracks[^1].Length + tracks[^1].Postgap;
        }
        return tracks;
    }
}
