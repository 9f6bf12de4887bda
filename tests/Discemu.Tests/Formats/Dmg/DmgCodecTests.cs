using Discemu.Formats.Dmg;

namespace Discemu.Tests.Formats.Dmg;

/// <summary>
/// The ADC, LZVN and LZFSE decoders against the test kit's encoders on varied data, and against damaged
/// streams: every truncation and random garbage must end in a <see cref="CorruptImageException"/> (never
/// another exception, a hang or a write past the output).
/// </summary>
public sealed class DmgCodecTests
{
    public static TheoryData<string> Codecs => ["adc", "lzvn", "lzfse-stored", "lzfse-lzvn", "lzfse-v1", "lzfse-v2", "lzfse-mixed"];

    private static byte[] Encode(string codec, byte[] data) => codec switch
    {
        "adc" => AdcEncoder.Encode(data),
        "lzvn" => LzvnEncoder.Encode(data),
        "lzfse-stored" => LzfseEncoder.Encode(data, LzfseBlocks.Stored),
        "lzfse-lzvn" => LzfseEncoder.Encode(data, LzfseBlocks.Lzvn),
        "lzfse-v1" => LzfseEncoder.Encode(data, LzfseBlocks.FseV1),
        "lzfse-v2" => LzfseEncoder.Encode(data, LzfseBlocks.FseV2),
        _ => LzfseEncoder.Encode(data, LzfseBlocks.Mixed),
    };

    private static int Decode(string codec, byte[] input, byte[] output)
    {
        switch (codec)
        {
            case "adc":
                AdcDecoder.Decode(input, output);
                return output.Length;
            case "lzvn":
                return LzvnDecoder.Decode(input, output, 0);
            default:
                return LzfseDecoder.Decode(input, output);
        }
    }

    /// <summary>Inputs with literals, short and long matches, runs, far and near distances.</summary>
    private static IEnumerable<byte[]> Samples()
    {
        var rng = new Random(11);
        yield return [7];
        yield return [.. new byte[5000]];
        var random = new byte[70_000];
        rng.NextBytes(random);
        yield return random;
        yield return [.. Enumerable.Range(0, 100_000).Select(i => (byte)(i % 3 == 0 ? 'x' : i / 1000))];
        var text = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 12_000).Select(i => $"{i % 101}:{i % 7} ")));
        yield return text;
        // Far repeats (distances past 16 KiB and 64 KiB) with noise between them.
        var far = new byte[200_000];
        rng.NextBytes(far.AsSpan(0, 20_000));
        far.AsSpan(0, 20_000).CopyTo(far.AsSpan(90_000));
        far.AsSpan(0, 3_000).CopyTo(far.AsSpan(20_500));
        yield return far;
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void DecodesWhatTheTestKitEncodes(string codec)
    {
        foreach (var sample in Samples())
        {
            var stream = Encode(codec, sample);
            var output = new byte[sample.Length];
            Assert.Equal(sample.Length, Decode(codec, stream, output));
            Assert.True(sample.AsSpan().SequenceEqual(output), $"{codec}: {sample.Length} bytes differ after decoding");
        }
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void TruncatedAndDamagedStreamsFailTyped(string codec)
    {
        var sample = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 300).Select(i => $"w{i % 17}{i % 5} ")));
        var stream = Encode(codec, sample);
        var output = new byte[sample.Length];
        for (int cut = 0; cut < stream.Length; cut++)
        {
            try
            {
                int n = Decode(codec, stream[..cut], output);
                // A cut stream may still decode when only trailing padding went missing; it must never claim more.
                Assert.InRange(n, 0, output.Length);
            }
            catch (CorruptImageException) { }
        }
        var rng = new Random(codec.Length);
        for (int i = 0; i < 400; i++)
        {
            var damaged = (byte[])stream.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--) damaged[rng.Next(damaged.Length)] = (byte)rng.Next(256);
            var small = new byte[rng.Next(0, sample.Length + 100)];
            try { Assert.InRange(Decode(codec, damaged, small), 0, small.Length); }
            catch (CorruptImageException) { }
        }
        for (int i = 0; i < 300; i++)
        {
            var garbage = new byte[rng.Next(0, 3000)];
            rng.NextBytes(garbage);
            if (i % 3 == 0 && garbage.Length >= 4) "bvx2"u8.CopyTo(garbage);
            if (i % 3 == 1 && garbage.Length >= 4) "bvxn"u8.CopyTo(garbage);
            try { Decode(codec, garbage, new byte[rng.Next(0, 70_000)]); }
            catch (CorruptImageException) { }
        }
    }

    [Fact]
    public void AdcReferencesBeforeTheStartAreRefused()
    {
        // A 2-byte reference at output 0 and a 3-byte reference reaching 65536 bytes back.
        Assert.Throws<CorruptImageException>(() => AdcDecoder.Decode([0x00, 0x00], new byte[3]));
        Assert.Throws<CorruptImageException>(() => AdcDecoder.Decode([0x80, 0x41, 0x40, 0xFF, 0xFF], new byte[10]));
        // Literal 'A', then a 2-byte reference: length (2 + 3), distance 0 (the previous byte), repeating it.
        var output = new byte[6];
        AdcDecoder.Decode([0x80, 0x41, 0x08, 0x00], output);
        Assert.Equal("AAAAAA"u8.ToArray(), output);
        Assert.Throws<CorruptImageException>(() => AdcDecoder.Decode([0x80, 0x41, 0x08, 0x00], new byte[7]));
    }

    [Fact]
    public void LzvnRefusesInvalidOpcodesAndZeroDistances()
    {
        Assert.Throws<CorruptImageException>(() => LzvnDecoder.Decode([0x1E, 0x06, 0, 0, 0, 0, 0, 0, 0], new byte[10], 0));
        Assert.Throws<CorruptImageException>(() => LzvnDecoder.Decode([0x70, 0, 0x06, 0, 0, 0, 0, 0, 0, 0], new byte[10], 0));
        // A match using the previous distance before any distance was set.
        Assert.Throws<CorruptImageException>(() => LzvnDecoder.Decode([0xE1, 0x41, 0xF3, 0x06, 0, 0, 0, 0, 0, 0, 0], new byte[10], 0));
        // No end-of-stream opcode.
        Assert.Throws<CorruptImageException>(() => LzvnDecoder.Decode([0xE1, 0x41], new byte[10], 0));
        Assert.Equal(1, LzvnDecoder.Decode([0xE1, 0x41, 0x06, 0, 0, 0, 0, 0, 0, 0], new byte[10], 0));
    }

    [Fact]
    public void LzfseRefusesUnknownBlocksAndMissingEnd()
    {
        Assert.Throws<CorruptImageException>(() => LzfseDecoder.Decode("bvx?"u8, new byte[10]));
        Assert.Throws<CorruptImageException>(() => LzfseDecoder.Decode([.. "bvx-"u8, 1, 0, 0, 0, 0x41], new byte[10]));
        Assert.Throws<CorruptImageException>(() => LzfseDecoder.Decode([.. "bvx-"u8, 20, 0, 0, 0, 0x41, .. "bvx$"u8], new byte[30]));
        Assert.Equal(1, LzfseDecoder.Decode([.. "bvx-"u8, 1, 0, 0, 0, 0x41, .. "bvx$"u8], new byte[10]));
    }
}
