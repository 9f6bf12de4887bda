using Discemu.Block;

namespace Discemu.Tests.Operations;

/// <summary>Wraps a device and records every read, to prove that operations never read holes.</summary>
internal sealed class CountingDevice(BlockDevice inner) : BlockDevice
{
    private readonly List<(long Offset, long Length)> _reads = [];

    public IReadOnlyList<(long Offset, long Length)> Reads { get { lock (_reads) return [.. _reads]; } }

    public long BytesRead { get { lock (_reads) return _reads.Sum(r => r.Length); } }

    public override long Length => inner.Length;

    public override DeviceCapabilities Capabilities => inner.Capabilities;

    protected override void ReadCore(long offset, Span<byte> buffer)
    {
        lock (_reads) _reads.Add((offset, buffer.Length));
        inner.Read(offset, buffer);
    }

    protected override void WriteCore(long offset, ReadOnlySpan<byte> data) => inner.Write(offset, data);

    protected override void WriteZeroesCore(long offset, long length, bool mayUnmap) => inner.WriteZeroes(offset, length, mayUnmap);

    protected override BlockStatus GetStatusCore(long offset, long maxLength) => inner.GetStatus(offset, maxLength);

    /// <summary>Asserts that no recorded read overlaps a range the inner device reports as a hole.</summary>
    public void AssertNoHoleWasRead()
    {
        foreach (var (offset, length) in Reads)
        {
            for (long pos = offset, end = offset + length; pos < end;)
            {
                var st = inner.GetStatus(pos, end - pos);
                Assert.False(st.IsZero, $"read of {offset}+{length} touched the hole at {pos}+{st.Length}");
                pos += st.Length;
            }
        }
    }
}
