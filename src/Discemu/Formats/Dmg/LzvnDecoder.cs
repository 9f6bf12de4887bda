namespace Discemu.Formats.Dmg;

/// <summary>
/// LZVN, the byte-oriented LZ codec inside LZFSE streams ("bvxn" blocks). Each opcode byte carries a literal
/// length L (the literal bytes follow the opcode), a match length M and a match distance D in one of several
/// shapes: small/medium/large distance, previous distance, literal only, match only (previous distance),
/// no-op, and end of stream (the opcode plus 7 padding bytes).
/// </summary>
internal static class LzvnDecoder
{
    private enum Op : byte { Invalid, SmallDistance, MediumDistance, LargeDistance, PreviousDistance, SmallLiteral, LargeLiteral, SmallMatch, LargeMatch, Nop, End }

    private static readonly Op[] Ops = BuildOps();

    private static Op[] BuildOps()
    {
        var t = new Op[256];
        for (int op = 0; op < 256; op++)
        {
            t[op] = op switch
            {
                0xE0 => Op.LargeLiteral,
                > 0xE0 and < 0xF0 => Op.SmallLiteral,
                0xF0 => Op.LargeMatch,
                > 0xF0 => Op.SmallMatch,
                >= 0xA0 and <= 0xBF => Op.MediumDistance,
                (>= 0x70 and <= 0x7F) or (>= 0xD0 and <= 0xDF) => Op.Invalid,
                0x06 => Op.End,
                0x0E or 0x16 => Op.Nop,
                _ when (op & 7) == 7 => Op.LargeDistance,
                _ when (op & 7) == 6 => op < 0x40 ? Op.Invalid : Op.PreviousDistance,
                _ => Op.SmallDistance,
            };
        }
        return t;
    }

    /// <summary>
    /// Decodes all of <paramref name="input"/> (which must end with the end-of-stream opcode) into
    /// <paramref name="output"/> from <paramref name="start"/>; matches may reach back to the start of
    /// <paramref name="output"/>. Returns the output position after the last byte written.
    /// </summary>
    /// <exception cref="CorruptImageException">An invalid opcode, a distance out of range, an overflow, or no end of stream.</exception>
    public static int Decode(ReadOnlySpan<byte> input, Span<byte> output, int start, string? path = null)
    {
        int ip = 0, op = start;
        int d = 0;
        while (true)
        {
            if (ip >= input.Length) throw new CorruptImageException("LZVN data ends without an end-of-stream opcode.", path);
            int code = input[ip];
            int literal = 0, match = 0, length;
            switch (Ops[code])
            {
                case Op.SmallDistance:
                    length = 2;
                    Need(input, ip, length, path);
                    literal = code >> 6;
                    match = ((code >> 3) & 7) + 3;
                    d = ((code & 7) << 8) | input[ip + 1];
                    break;
                case Op.MediumDistance:
                    length = 3;
                    Need(input, ip, length, path);
                    literal = (code >> 3) & 3;
                    match = (((code & 7) << 2) | (input[ip + 1] & 3)) + 3;
                    d = (input[ip + 1] >> 2) | (input[ip + 2] << 6);
                    break;
                case Op.LargeDistance:
                    length = 3;
                    Need(input, ip, length, path);
                    literal = code >> 6;
                    match = ((code >> 3) & 7) + 3;
                    d = input[ip + 1] | (input[ip + 2] << 8);
                    break;
                case Op.PreviousDistance:
                    length = 1;
                    literal = code >> 6;
                    match = ((code >> 3) & 7) + 3;
                    break;
                case Op.SmallLiteral:
                    length = 1;
                    literal = code & 0x0F;
                    break;
                case Op.LargeLiteral:
                    length = 2;
                    Need(input, ip, length, path);
                    literal = input[ip + 1] + 16;
                    break;
                case Op.SmallMatch:
                    length = 1;
                    match = code & 0x0F;
                    break;
                case Op.LargeMatch:
                    length = 2;
                    Need(input, ip, length, path);
                    match = input[ip + 1] + 16;
                    break;
                case Op.Nop:
                    ip++;
                    continue;
                case Op.End:
                    if (input.Length - ip < 8) throw new CorruptImageException("The LZVN end-of-stream opcode is truncated.", path);
                    if (ip + 8 != input.Length) throw new CorruptImageException($"{input.Length - ip - 8} bytes follow the LZVN end of stream.", path);
                    return op;
                default:
                    throw new CorruptImageException($"Invalid LZVN opcode 0x{code:x2} at byte {ip}.", path);
            }
            ip += length;
            if (literal > 0)
            {
                if (literal > input.Length - ip) throw new CorruptImageException("An LZVN literal runs past the end of the data.", path);
                if (literal > output.Length - op) throw new CorruptImageException("An LZVN literal overflows the output.", path);
                input.Slice(ip, literal).CopyTo(output[op..]);
                ip += literal;
                op += literal;
            }
            if (match > 0)
            {
                if (d == 0 || d > op) throw new CorruptImageException($"An LZVN match at output byte {op} has distance {d}.", path);
                if (match > output.Length - op) throw new CorruptImageException("An LZVN match overflows the output.", path);
                LzCopy.Match(output, op, d, match);
                op += match;
            }
        }
    }

    private static void Need(ReadOnlySpan<byte> input, int ip, int length, string? path)
    {
        if (input.Length - ip < length) throw new CorruptImageException("An LZVN opcode is truncated.", path);
    }
}
