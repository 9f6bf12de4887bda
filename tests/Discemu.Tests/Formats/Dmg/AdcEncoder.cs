namespace Discemu.Tests.Formats.Dmg;

/// <summary>A test-kit ADC encoder: literal runs of up to 128 bytes, two-byte references (length 3-18, distance 1-1024) and three-byte ones (length 4-67, distance 1-65536).</summary>
internal static class AdcEncoder
{
    public static byte[] Encode(ReadOnlySpan<byte> data)
    {
        var output = new List<byte>(data.Length / 2 + 16);
        foreach (var step in LzMatcher.Parse(data, 4, 67, 65536))
        {
            for (int done = 0; done < step.LiteralLength;)
            {
                int n = Math.Min(128, step.LiteralLength - done);
                output.Add((byte)(0x80 | (n - 1)));
                for (int i = 0; i < n; i++) output.Add(data[step.LiteralStart + done + i]);
                done += n;
            }
            if (step.MatchLength == 0) continue;
            int d = step.Distance - 1;
            if (step.MatchLength <= 18 && d < 1024)
            {
                output.Add((byte)(((step.MatchLength - 3) << 2) | (d >> 8)));
                output.Add((byte)d);
            }
            else
            {
                output.Add((byte)(0x40 | (step.MatchLength - 4)));
                output.Add((byte)(d >> 8));
                output.Add((byte)d);
            }
        }
        return [.. output];
    }
}
