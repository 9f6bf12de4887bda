using System.Security.Cryptography;

namespace Discemu.Operations;

/// <summary>
/// Computes several hashes (MD5, SHA-1, SHA-256, SHA-512) of one stream of bytes at once, each
/// algorithm on its own thread-pool task, overlapping with the caller: <see cref="Append"/> copies
/// into one of two 1 MiB blocks and returns; a full block is hashed in the background while the
/// caller fills the other. Memory stays at two blocks whatever the stream's length.
/// </summary>
/// <remarks>Not thread-safe: feed it from one thread, in stream order.</remarks>
public sealed class MultiHasher : IDisposable
{
    private const int BlockSize = 1 << 20;

    private readonly IncrementalHash[] _hashes;
    private readonly byte[][] _blocks = [new byte[BlockSize], new byte[BlockSize]];
    private int _current, _fill;
    private Task? _pending;
    private bool _finished;

    /// <summary>Starts hashing with <paramref name="algorithms"/> (MD5, SHA1, SHA256, SHA384, SHA512).</summary>
    /// <exception cref="ArgumentException">No algorithm, a duplicate, or one not in the list.</exception>
    public MultiHasher(params IEnumerable<HashAlgorithmName> algorithms)
    {
        ArgumentNullException.ThrowIfNull(algorithms);
        var list = algorithms.ToList();
        if (list.Count == 0) throw new ArgumentException("At least one algorithm is needed.", nameof(algorithms));
        if (list.Distinct().Count() != list.Count) throw new ArgumentException("An algorithm is listed twice.", nameof(algorithms));
        foreach (var a in list)
            if (a != HashAlgorithmName.MD5 && a != HashAlgorithmName.SHA1 && a != HashAlgorithmName.SHA256 && a != HashAlgorithmName.SHA384 && a != HashAlgorithmName.SHA512)
                throw new ArgumentException($"Unsupported hash algorithm '{a.Name}'.", nameof(algorithms));
        Algorithms = list;
        _hashes = [.. list.Select(IncrementalHash.CreateHash)];
    }

    /// <summary>The algorithms, in the order given.</summary>
    public IReadOnlyList<HashAlgorithmName> Algorithms { get; }

    /// <summary>Bytes appended so far.</summary>
    public long BytesHashed { get; private set; }

    /// <summary>Appends the next bytes of the stream.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Finish"/> was already called.</exception>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (_finished) throw new InvalidOperationException("The hashes were already finished.");
        BytesHashed += data.Length;
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, BlockSize - _fill);
            data[..n].CopyTo(_blocks[_current].AsSpan(_fill));
            _fill += n;
            data = data[n..];
            if (_fill == BlockSize) Dispatch();
        }
    }

    /// <summary>Starts hashing the current block in the background and switches to the other one.</summary>
    private void Dispatch()
    {
        _pending?.GetAwaiter().GetResult();
        var block = _blocks[_current];
        int length = _fill;
        _pending = _hashes.Length == 1
            ? Task.Run(() => _hashes[0].AppendData(block, 0, length))
            : Task.WhenAll(_hashes.Select(h => Task.Run(() => h.AppendData(block, 0, length))));
        _current ^= 1;
        _fill = 0;
    }

    /// <summary>Waits for the background work and returns each algorithm's hash, in <see cref="Algorithms"/> order.</summary>
    /// <exception cref="InvalidOperationException">Already finished.</exception>
    public IReadOnlyList<byte[]> Finish()
    {
        if (_finished) throw new InvalidOperationException("The hashes were already finished.");
        if (_fill > 0) Dispatch();
        _pending?.GetAwaiter().GetResult();
        _pending = null;
        _finished = true;
        return [.. _hashes.Select(h => h.GetHashAndReset())];
    }

    /// <summary>
    /// Hashes all of <paramref name="device"/>: one thread reads 4 MiB at a time while the algorithms
    /// hash the previous block in parallel.
    /// </summary>
    /// <returns>Each algorithm's hash, in the order given.</returns>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static IReadOnlyList<byte[]> HashDevice(Block.BlockDevice device, IEnumerable<HashAlgorithmName> algorithms,
        ProgressCallback? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        using var hasher = new MultiHasher(algorithms);
        var buffer = new byte[4 << 20];
        long length = device.Length;
        for (long pos = 0; pos < length;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(buffer.Length, length - pos);
            device.Read(pos, buffer.AsSpan(0, n));
            hasher.Append(buffer.AsSpan(0, n));
            pos += n;
            progress?.Invoke(pos, length);
        }
        return hasher.Finish();
    }

    /// <summary>The short lower-case name used in logs and output: md5, sha1, sha256, sha384, sha512.</summary>
    public static string ShortName(HashAlgorithmName algorithm) => (algorithm.Name ?? "").Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();

    /// <summary>Parses a short name (md5, sha1, sha-1, sha256 …, any case).</summary>
    public static bool TryParse(string name, out HashAlgorithmName algorithm)
    {
        algorithm = (name ?? "").Replace("-", "", StringComparison.Ordinal).ToLowerInvariant() switch
        {
            "md5" => HashAlgorithmName.MD5,
            "sha1" => HashAlgorithmName.SHA1,
            "sha256" => HashAlgorithmName.SHA256,
            "sha384" => HashAlgorithmName.SHA384,
            "sha512" => HashAlgorithmName.SHA512,
            _ => default,
        };
        return algorithm.Name is not null;
    }

    /// <summary>Waits for background work and releases the hash objects.</summary>
    public void Dispose()
    {
        try { _pending?.Wait(); }
        catch (AggregateException) { }
        foreach (var h in _hashes) h.Dispose();
    }
}
