using Discemu.Block;
using Discemu.Operations;

namespace Discemu.Acquisition;

/// <summary>The outcome of re-reading an image or a source to verify an acquisition's hashes.</summary>
/// <param name="Hashes">The hashes computed now (lower-case hex by algorithm).</param>
/// <param name="Matches">True when every hash equals the acquisition's.</param>
/// <param name="UnreadableBytes">Bytes that could not be read and were hashed as fill (a failing source).</param>
public sealed record VerificationResult(IReadOnlyDictionary<string, string> Hashes, bool Matches, long UnreadableBytes);

/// <summary>
/// Hashes a whole device in order, reading on the calling thread while one thread per algorithm hashes
/// (for <c>--verify</c>). Unreadable ranges can be hashed as fill, sector by sector, the way the acquisition
/// recorded them.
/// </summary>
public static class MediaHasher
{
    private const int ChunkSize = 1 << 20;

    /// <summary>Hashes <paramref name="device"/> and compares with <paramref name="expected"/>.</summary>
    /// <param name="device">What to read.</param>
    /// <param name="expected">The acquisition's hashes; their algorithms are the ones computed.</param>
    /// <param name="sectorSize">Granularity of retries after a failed read.</param>
    /// <param name="fill">The fill pattern for unreadable sectors; null to fail on the first read error.</param>
    /// <param name="progress">Called with (bytes done, total) after each chunk.</param>
    /// <param name="cancellationToken">Stops the pass.</param>
    /// <exception cref="IOException">A read failed and <paramref name="fill"/> is null.</exception>
    /// <exception cref="OperationCanceledException">The pass was cancelled.</exception>
    public static VerificationResult Verify(BlockDevice device, IReadOnlyDictionary<string, string> expected, int sectorSize,
        ReadOnlyMemory<byte>? fill, Action<long, long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sectorSize);
        var algorithms = AcquisitionHashes.Parse(string.Join(',', expected.Keys));
        long unreadable = 0;
        var pool = new System.Collections.Concurrent.BlockingCollection<ChunkBuffer>();
        for (int i = 0; i < 8; i++) pool.Add(new ChunkBuffer(ChunkSize));
        IReadOnlyDictionary<string, string> hashes;
        using (var hasher = new MultiHasher(algorithms))
        {
            long size = device.Length;
            for (long pos = 0; pos < size;)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = (int)Math.Min(ChunkSize, size - pos);
                var buffer = pool.Take(cancellationToken);
                var span = buffer.Slice(0, n);
                try { device.Read(pos, span); }
                catch (Exception e) when (fill is not null && e is IOException or CorruptImageException)
                {
                    unreadable += ReadSectors(device, pos, span, sectorSize, fill.Value.Span);
                }
                int refs = hasher.Count;
                hasher.Submit(buffer.Memory[..n], () => { if (Interlocked.Decrement(ref refs) == 0) pool.Add(buffer); });
                pos += n;
                progress?.Invoke(pos, size);
            }
            hashes = hasher.Finish();
        }
        bool matches = expected.All(kv => hashes.TryGetValue(kv.Key, out var h) && string.Equals(h, kv.Value, StringComparison.OrdinalIgnoreCase));
        return new VerificationResult(hashes, matches, unreadable);
    }

    /// <summary>Reads a failed chunk sector by sector, filling the sectors that fail; returns the bytes filled.</summary>
    private static long ReadSectors(BlockDevice device, long offset, Span<byte> span, int sectorSize, ReadOnlySpan<byte> fill)
    {
        long bad = 0;
        for (int i = 0; i < span.Length;)
        {
            long at = offset + i;
            int n = (int)Math.Min(at - at % sectorSize + sectorSize - at, span.Length - i);
            var part = span.Slice(i, n);
            try { device.Read(at, part); }
            catch (Exception e) when (e is IOException or CorruptImageException)
            {
                for (int k = 0; k < n; k++) part[k] = fill[(int)((at + k) % fill.Length)];
                bad += n;
            }
            i += n;
        }
        return bad;
    }
}
