using Discemu.Block;

namespace Discemu.Tests.Conformance;

/// <summary>
/// The reference a device is checked against: a plain byte array plus a mask of bytes whose contents
/// the device is allowed to choose (after a discard that does not promise zeros).
/// </summary>
internal sealed class DeviceModel
{
    private byte[] _data;
    private bool[] _unknown;

    public DeviceModel(byte[] initial)
    {
        _data = initial;
        _unknown = new bool[initial.Length];
    }

    public long Length => _data.Length;

    public ReadOnlySpan<byte> Data => _data;

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        data.CopyTo(_data.AsSpan((int)offset));
        _unknown.AsSpan((int)offset, data.Length).Clear();
    }

    public void Zero(long offset, long length)
    {
        _data.AsSpan((int)offset, (int)length).Clear();
        _unknown.AsSpan((int)offset, (int)length).Clear();
    }

    /// <summary>Marks the range as "anything goes" (a discard without a zeroing guarantee).</summary>
    public void Forget(long offset, long length) => _unknown.AsSpan((int)offset, (int)length).Fill(true);

    public void Resize(long newLength)
    {
        int old = _data.Length;
        Array.Resize(ref _data, (int)newLength);
        Array.Resize(ref _unknown, (int)newLength);
        if (newLength > old)
        {
            _data.AsSpan(old).Clear();
            _unknown.AsSpan(old).Clear();
        }
    }

    /// <summary>The first offset in [offset, offset+actual.Length) where <paramref name="actual"/> contradicts the model, or -1.</summary>
    public long FirstMismatch(long offset, ReadOnlySpan<byte> actual)
    {
        var expected = _data.AsSpan((int)offset, actual.Length);
        var unknown = _unknown.AsSpan((int)offset, actual.Length);
        int start = 0;
        while (start < actual.Length)
        {
            int diff = expected[start..].CommonPrefixLength(actual[start..]);
            int at = start + diff;
            if (at >= actual.Length) return -1;
            if (!unknown[at]) return offset + at;
            start = at + 1;
        }
        return -1;
    }

    /// <summary>Reads the range from <paramref name="device"/> and fails with <paramref name="context"/> on the first contradiction.</summary>
    public void AssertMatches(BlockDevice device, long offset, long length, string context)
    {
        const int Chunk = 1 << 20;
        var buffer = new byte[(int)Math.Min(Math.Max(length, 1), Chunk)];
        for (long pos = offset; pos < offset + length; pos += Chunk)
        {
            int n = (int)Math.Min(Chunk, offset + length - pos);
            device.Read(pos, buffer.AsSpan(0, n));
            long bad = FirstMismatch(pos, buffer.AsSpan(0, n));
            if (bad >= 0)
                Assert.Fail($"{context}: byte {bad} reads 0x{buffer[bad - pos]:x2}, expected 0x{_data[bad]:x2} (checked {offset}+{length}).");
        }
    }
}
