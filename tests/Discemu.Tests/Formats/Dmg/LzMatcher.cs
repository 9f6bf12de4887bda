namespace Discemu.Tests.Formats.Dmg;

/// <summary>One LZ step for the test encoders: a run of literals, then a match (length 0 at the end).</summary>
internal readonly record struct LzStep(int LiteralStart, int LiteralLength, int MatchLength, int Distance);

/// <summary>
/// A small greedy LZ77 parser (hash of 4-byte sequences, a few candidates per position) shared by the test
/// kit's ADC, LZVN and LZFSE encoders. It only has to produce valid, reasonably compact streams.
/// </summary>
internal static class LzMatcher
{
    public static List<LzStep> Parse(ReadOnlySpan<byte> data, int minMatch, int maxMatch, int maxDistance)
    {
        var steps = new List<LzStep>();
        var head = new int[1 << 15];
        Array.Fill(head, -1);
        var prev = new int[data.Length];
        int literalStart = 0, pos = 0;
        while (pos < data.Length)
        {
            int bestLength = 0, bestDistance = 0;
            if (pos + 4 <= data.Length)
            {
                int h = Hash(data, pos);
                int candidate = head[h];
                for (int tries = 0; candidate >= 0 && tries < 16; tries++, candidate = prev[candidate])
                {
                    int distance = pos - candidate;
                    if (distance > maxDistance) break;
                    int length = 0;
                    int limit = Math.Min(maxMatch, data.Length - pos);
                    while (length < limit && data[candidate + length] == data[pos + length]) length++;
                    if (length > bestLength) { bestLength = length; bestDistance = distance; }
                }
                prev[pos] = head[h];
                head[h] = pos;
            }
            if (bestLength >= minMatch)
            {
                steps.Add(new LzStep(literalStart, pos - literalStart, bestLength, bestDistance));
                for (int i = 1; i < bestLength && pos + i + 4 <= data.Length; i++)
                {
                    int h2 = Hash(data, pos + i);
                    prev[pos + i] = head[h2];
                    head[h2] = pos + i;
                }
                pos += bestLength;
                literalStart = pos;
            }
            else pos++;
        }
        if (literalStart < data.Length || steps.Count == 0) steps.Add(new LzStep(literalStart, data.Length - literalStart, 0, 0));
        return steps;
    }

    private static int Hash(ReadOnlySpan<byte> d, int p) => (int)(((uint)(d[p] | d[p + 1] << 8 | d[p + 2] << 16 | d[p + 3] << 24) * 2654435761u) >> 17);
}
