using System.Security.Cryptography;
using Discemu.Acquisition;
using Discemu.Block;

namespace Discemu.Tests.Acquisition;

/// <summary>Shared helpers: run the engine onto an in-memory destination that outlives the run (for resuming).</summary>
internal static class AcquisitionTestKit
{
    /// <summary>A destination kept across runs: each run gets a sink over a non-owning view of it.</summary>
    public sealed class MemoryTarget(long size)
    {
        public MemoryDevice Device { get; } = new(size);

        public DeviceSink Sink() => new(new SubRangeDevice(Device, 0, Device.Length), "memory", "raw");

        public byte[] Bytes()
        {
            var b = new byte[Device.Length];
            Device.Read(0, b);
            return b;
        }
    }

    public static AcquisitionResult Run(FaultyDevice source, MemoryTarget target, AcquisitionOptions options, MapfileState? resume = null)
    {
        using var sink = target.Sink();
        return AcquisitionEngine.Run(source, sink, options with { Clock = options.Clock ?? source.Clock }, resume);
    }

    public static string Md5(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>The non-finished blocks of a map, merged into ranges regardless of state.</summary>
    public static List<(long Start, long End)> Unfinished(RescueMap map)
    {
        var list = new List<(long Start, long End)>();
        foreach (var b in map.Blocks)
        {
            if (b.Status == RescueBlockStatus.Finished) continue;
            if (list.Count > 0 && list[^1].End == b.Offset) list[^1] = (list[^1].Start, b.End);
            else list.Add((b.Offset, b.End));
        }
        return list;
    }

    /// <summary>Asserts no successful read touched a range finished in <paramref name="map"/>.</summary>
    public static void AssertNoFinishedAreaRead(RescueMap map, IEnumerable<(long Offset, int Length, bool Ok)> reads, string what)
    {
        foreach (var (offset, length, _) in reads)
        {
            for (long pos = offset, end = offset + length; pos < end;)
            {
                var block = map.Blocks[map.IndexAt(pos)];
                Assert.False(block.Status == RescueBlockStatus.Finished,
                    $"{what}: the read {offset}+{length} touched {block.Offset}+{block.Length}, finished before this run.");
                pos = block.End;
            }
        }
    }
}
