using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Cue;

/// <summary>Builds small BIN/CUE images for the tests: an ISO from genisoimage encoded as raw sectors, synthetic audio, several layouts.</summary>
internal static class CueTestKit
{
    /// <summary>Audio sectors of each synthetic audio track.</summary>
    public const int AudioSectors = 40;

    /// <summary>Makes a small ISO 9660 image with genisoimage (volume id CUETEST) and returns its bytes.</summary>
    public static byte[] MakeIso(TempDir dir)
    {
        PeerTools.Require("genisoimage");
        string tree = dir.File("tree");
        Directory.CreateDirectory(Path.Join(tree, "docs"));
        File.WriteAllText(Path.Join(tree, "hello.txt"), "Hello from a CD track.\n");
        File.WriteAllBytes(Path.Join(tree, "docs", "data.bin"), Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7 + i / 251)).ToArray());
        string iso = dir.File("made.iso");
        PeerTools.RunOk("genisoimage", "-quiet", "-R", "-V", "CUETEST", "-o", iso, tree);
        return File.ReadAllBytes(iso);
    }

    /// <summary>Deterministic 16-bit stereo little-endian samples: a tone plus noise, <paramref name="sectors"/> sectors of 2352 bytes.</summary>
    public static byte[] Audio(int sectors, int seed)
    {
        var pcm = new byte[sectors * 2352];
        var rng = new Random(seed);
        for (int i = 0; i < pcm.Length / 4; i++)
        {
            short l = (short)(Math.Sin(i * (0.01 + seed * 0.003)) * 12000 + rng.Next(-500, 500));
            short r = (short)(Math.Cos(i * 0.013) * 9000 + rng.Next(-500, 500));
            pcm[4 * i] = (byte)l; pcm[4 * i + 1] = (byte)(l >> 8);
            pcm[4 * i + 2] = (byte)r; pcm[4 * i + 3] = (byte)(r >> 8);
        }
        return pcm;
    }

    /// <summary>Swaps each 16-bit sample's bytes (little-endian to MOTOROLA big-endian).</summary>
    public static byte[] Swap(byte[] pcm)
    {
        var s = (byte[])pcm.Clone();
        for (int i = 0; i + 1 < s.Length; i += 2) (s[i], s[i + 1]) = (s[i + 1], s[i]);
        return s;
    }

    /// <summary>A canonical CD-audio WAVE file around <paramref name="pcm"/>, with an extra LIST chunk before the data.</summary>
    public static byte[] Wave(byte[] pcm)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        byte[] list = "LIST"u8.ToArray();
        w.Write("RIFF"u8); w.Write(4 + 24 + 8 + 6 + 8 + pcm.Length); w.Write("WAVE"u8);
        w.Write("fmt "u8); w.Write(16); w.Write((short)1); w.Write((short)2); w.Write(44100); w.Write(176400); w.Write((short)4); w.Write((short)16);
        w.Write(list); w.Write(5); w.Write("INFOx"u8); w.Write((byte)0); // odd-sized chunk and its pad byte
        w.Write("data"u8); w.Write(pcm.Length); w.Write(pcm);
        w.Flush();
        return ms.ToArray();
    }

    /// <summary>
    /// One BIN with a Mode 1 data track (the ISO), then two audio tracks; track 2 has a 10-sector stored pregap
    /// (INDEX 00). Returns the sheet's path; <paramref name="audio2"/> and <paramref name="audio3"/> are the tracks' samples.
    /// </summary>
    public static string SingleBin(TempDir dir, byte[] iso, out byte[] audio2, out byte[] audio3, string mode = "MODE1/2352")
    {
        byte[] data = mode switch
        {
            "MODE1/2352" => CdSectorEncoder.Mode1Image(iso),
            "MODE2/2352" => CdSectorEncoder.Form1Image(iso),
            "MODE1/2048" => iso,
            _ => throw new ArgumentException(mode),
        };
        int sectorSize = mode == "MODE1/2048" ? 2048 : 2352;
        int dataSectors = data.Length / sectorSize;
        var gap = Audio(10, 9);
        audio2 = Audio(AudioSectors, 2);
        audio3 = Audio(AudioSectors / 2, 3);
        File.WriteAllBytes(dir.File("disc.bin"), [.. data, .. gap, .. audio2, .. audio3]);
        // Times count sectors of the file; the data track's sectors may be 2048 bytes, the audio's 2352.
        string sheet = $"""
            REM COMMENT "made by the Discemu tests"
            FILE "disc.bin" BINARY
              TRACK 01 {mode}
                INDEX 01 00:00:00
              TRACK 02 AUDIO
                FLAGS DCP
                INDEX 00 {Msf(dataSectors)}
                INDEX 01 {Msf(dataSectors + 10)}
              TRACK 03 AUDIO
                INDEX 01 {Msf(dataSectors + 10 + AudioSectors)}

            """;
        string cue = dir.File("disc.cue");
        File.WriteAllText(cue, sheet.Replace("\n", "\r\n"));
        return cue;
    }

    /// <summary>
    /// Three FILEs: a Mode 1 data BIN, a MOTOROLA audio BIN with a PREGAP of 2 seconds, and a WAVE file with a stored
    /// pregap (INDEX 00) and a POSTGAP on the data track. Returns the sheet's path.
    /// </summary>
    public static string MultiFile(TempDir dir, byte[] iso, out byte[] audio2, out byte[] audio3)
    {
        File.WriteAllBytes(dir.File("Data Track.bin"), CdSectorEncoder.Mode1Image(iso));
        audio2 = Audio(AudioSectors, 5);
        File.WriteAllBytes(dir.File("audio.bin"), Swap(audio2));
        audio3 = Audio(AudioSectors, 6);
        File.WriteAllBytes(dir.File("track3.wav"), Wave([.. Audio(5, 7), .. audio3]));
        string cue = dir.File("multi.cue");
        File.WriteAllText(cue, """
            TITLE "Three files"
            FILE "Data Track.bin" BINARY
              TRACK 01 MODE1/2352
                INDEX 01 00:00:00
              POSTGAP 00:02:00
            FILE "AUDIO.BIN" MOTOROLA
              TRACK 02 AUDIO
                PREGAP 00:02:00
                INDEX 01 00:00:00
            FILE "track3.wav" WAVE
              TRACK 03 AUDIO
                INDEX 00 00:00:00
                INDEX 01 00:00:05
            """);
        return cue;
    }

    public static string Msf(long frames) => $"{frames / 4500:00}:{frames / 75 % 60:00}:{frames % 75:00}";
}
