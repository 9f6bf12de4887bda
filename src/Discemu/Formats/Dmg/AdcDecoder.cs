namespace Discemu.Formats.Dmg;

/// <summary>
/// Apple Data Compression (ADC), the codec of UDCO images: a byte stream of runs. A first byte with the
/// top bit set starts a literal of (low 7 bits + 1) bytes; otherwise it is a back-reference, either two bytes
/// (0LLLLDDD DDDDDDDD: length L + 3, distance D) or three (01LLLLLL DDDDDDDD DDDDDDDD: length L + 4, distance D,
/// big-endian), copying from D + 1 bytes before the current output position (overlapping copies repeat).
/// </summary>
internal static class AdcDecoder
{
    /// <summary>Decodes <paramref name="input"/> into exactly <paramref name="output"/>; input left over once the output is full is ignored.</summary>
    /// <exception cref="CorruptImageException">A run points before the start, overflows the output, or the input ends early.</exception>
    public static void Decode(ReadOnlySpan<byte> input, Span<byte> output, string? path = null)
    {
        int ip = 0, op = 0;
        while (op < output.Length)
        {
            if (ip >= input.Length) throw new CorruptImageException($"ADC data ends after {op} of {output.Length} bytes.", path);
            int b = input[ip];
            if ((b & 0x80) != 0)
            {
                int length = (b & 0x7F) + 1;
                if (length > input.Length - ip - 1) throw new CorruptImageException("An ADC literal runs past the end of the data.", path);
                if (length > output.Length - op) throw new CorruptImageException("An ADC literal overflows the chunk.", path);
                input.Slice(ip + 1, length).CopyTo(output[op..]);
                ip += 1 + length;
                op += length;
                continue;
            }
            int count, distance;
            if ((b & 0x40) != 0)
            {
                if (input.Length - ip < 3) throw new CorruptImageException("An ADC back-reference is truncated.", path);
                count = (b & 0x3F) + 4;
                distance = (input[ip + 1] << 8) | input[ip + 2];
                ip += 3;
            }
            else
            {
                if (input.Length - ip < 2) throw new CorruptImageException("An ADC back-reference is truncated.", path);
                count = ((b >> 2) & 0x0F) + 3;
                distance = ((b & 0x03) << 8) | input[ip + 1];
                ip += 2;
            }
            int from = op - distance - 1;
            if (from < 0) throw new CorruptImageException($"An ADC back-reference at output byte {op} reaches {distance + 1} bytes back.", path);
            if (count > output.Length - op) throw new CorruptImageException("An ADC back-reference overflows the chunk.", path);
            LzCopy.Match(output, op, distance + 1, count);
            op += count;
        }
    }
}

/// <summary>The LZ back-reference copy shared by the decoders: overlapping copies repeat the pattern, byte by byte in effect.</summary>
internal static class LzCopy
{
    /// <summary>Copies <paramref name="count"/> bytes from <paramref name="distance"/> bytes before <paramref name="at"/> to <paramref name="at"/>.</summary>
    public static void Match(Span<byte> output, int at, int distance, int count)
    {
        if (distance >= count)
        {
            output.Slice(at - distance, count).CopyTo(output[at..]);
            return;
        }
        if (distance == 1)
        {
            output.Slice(at, count).Fill(output[at - 1]);
            return;
        }
        // Overlapping: the source grows as the copy proceeds; copy in steps of the distance.
        int done = 0;
        while (done < count)
        {
            int n = Math.Min(distance, count - done);
            output.Slice(at - distance + done, n).CopyTo(output[(at + done)..]);
            done += n;
        }
    }
}
