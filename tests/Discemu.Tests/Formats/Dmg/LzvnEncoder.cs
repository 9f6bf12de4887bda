namespace Discemu.Tests.Formats.Dmg;

/// <summary>
/// A test-kit LZVN encoder that uses every opcode shape: literal-only (small and large), small/medium/large
/// distance, previous distance, match-only continuations (small and large), a no-op, and the end-of-stream
/// opcode followed by its 7 padding bytes.
/// </summary>
internal static class LzvnEncoder
{
    public static byte[] Encode(ReadOnlySpan<byte> data)
    {
        var o = new List<byte>(data.Length / 2 + 16);
        int previous = 0, count = 0;
        foreach (var step in LzMatcher.Parse(data, 3, 1000, 65535))
        {
            int lit = step.LiteralLength, at = step.LiteralStart;
            int bundled = step.MatchLength > 0 ? Math.Min(lit, 3) : 0;
            // Literals that do not travel with the match go first, in literal-only opcodes.
            for (int rest = lit - bundled; rest > 0;)
            {
                int n = Math.Min(rest, 271);
                if (n >= 16) { o.Add(0xE0); o.Add((byte)(n - 16)); }
                else o.Add((byte)(0xE0 | n));
                for (int i = 0; i < n; i++) o.Add(data[at++]);
                rest -= n;
            }
            if (step.MatchLength == 0) continue;
            int d = step.Distance, m = step.MatchLength, L = bundled;
            // With a literal of L bytes the one-byte-distance shapes carry at most 10 - 2L match bytes.
            int first, limit = 10 - 2 * L;
            if (d == previous && L == 0) first = 0; // all of it in match-only opcodes below
            else if (d == previous) { first = Math.Min(m, limit); o.Add((byte)((L << 6) | ((first - 3) << 3) | 6)); }
            else if (d < 1536) { first = Math.Min(m, limit); o.Add((byte)((L << 6) | ((first - 3) << 3) | (d >> 8))); o.Add((byte)d); }
            else if (d < 16384) { first = Math.Min(m, 34); int mm = first - 3; o.Add((byte)(0xA0 | (L << 3) | (mm >> 2))); o.Add((byte)(((d & 0x3F) << 2) | (mm & 3))); o.Add((byte)(d >> 6)); }
            else { first = Math.Min(m, limit); o.Add((byte)((L << 6) | ((first - 3) << 3) | 7)); o.Add((byte)d); o.Add((byte)(d >> 8)); }
            for (int i = 0; i < L; i++) o.Add(data[at++]);
            previous = d;
            for (int rest = m - first; rest > 0;)
            {
                int n = Math.Min(rest, 271);
                if (n >= 16) { o.Add(0xF0); o.Add((byte)(n - 16)); }
                else o.Add((byte)(0xF0 | n));
                rest -= n;
            }
            if (++count % 64 == 0) o.Add(0x0E); // a no-op now and then
        }
        o.Add(0x06);
        for (int i = 0; i < 7; i++) o.Add(0);
        return [.. o];
    }
}
