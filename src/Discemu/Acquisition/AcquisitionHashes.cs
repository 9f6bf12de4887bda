using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Discemu.Acquisition;

/// <summary>The hash algorithms an acquisition can compute.</summary>
public enum AcquisitionHashAlgorithm
{
    /// <summary>MD5 (128 bits).</summary>
    Md5,
    /// <summary>SHA-1 (160 bits).</summary>
    Sha1,
    /// <summary>SHA-256.</summary>
    Sha256,
    /// <summary>SHA-512.</summary>
    Sha512,
}

/// <summary>Names and parsing of <see cref="AcquisitionHashAlgorithm"/>.</summary>
public static class AcquisitionHashes
{
    /// <summary>The lower-case name used in logs and on the command line (<c>md5</c>, <c>sha1</c>, <c>sha256</c>, <c>sha512</c>).</summary>
    public static string Name(AcquisitionHashAlgorithm algorithm) => algorithm switch
    {
        AcquisitionHashAlgorithm.Md5 => "md5",
        AcquisitionHashAlgorithm.Sha1 => "sha1",
        AcquisitionHashAlgorithm.Sha256 => "sha256",
        AcquisitionHashAlgorithm.Sha512 => "sha512",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>Parses a comma-separated list (<c>md5,sha256</c>); <c>none</c> or an empty text gives no hashes.</summary>
    /// <exception cref="BadArgumentException">A name is not a known algorithm.</exception>
    public static IReadOnlyList<AcquisitionHashAlgorithm> Parse(string? text)
    {
        var list = new List<AcquisitionHashAlgorithm>();
        if (string.IsNullOrWhiteSpace(text) || text.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return list;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var alg = part.ToLowerInvariant().Replace("-", "", StringComparison.Ordinal) switch
            {
                "md5" => AcquisitionHashAlgorithm.Md5,
                "sha1" => AcquisitionHashAlgorithm.Sha1,
                "sha256" => AcquisitionHashAlgorithm.Sha256,
                "sha512" => AcquisitionHashAlgorithm.Sha512,
                _ => throw new BadArgumentException($"Unknown hash '{part}': expected md5, sha1, sha256 or sha512."),
            };
            if (!list.Contains(alg)) list.Add(alg);
        }
        return list;
    }

    internal static HashAlgorithmName System(AcquisitionHashAlgorithm algorithm) => algorithm switch
    {
        AcquisitionHashAlgorithm.Md5 => HashAlgorithmName.MD5,
        AcquisitionHashAlgorithm.Sha1 => HashAlgorithmName.SHA1,
        AcquisitionHashAlgorithm.Sha256 => HashAlgorithmName.SHA256,
        AcquisitionHashAlgorithm.Sha512 => HashAlgorithmName.SHA512,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };
}

/// <summary>
/// Computes several hashes of one stream in parallel: one thread per algorithm, each consuming the same
/// chunks in the order they were submitted, so the slowest algorithm, not their sum, sets the pace.
/// A chunk is released (through its callback) once every algorithm has consumed it.
/// </summary>
internal sealed class MultiHasher : IDisposable
{
    private readonly AcquisitionHashAlgorithm[] _algorithms;
    private readonly Worker[] _workers;
    private bool _finished;

    public MultiHasher(IReadOnlyList<AcquisitionHashAlgorithm> algorithms)
    {
        _algorithms = [.. algorithms];
        _workers = new Worker[_algorithms.Length];
        for (int i = 0; i < _workers.Length; i++) _workers[i] = new Worker(_algorithms[i]);
    }

    /// <summary>How many algorithms consume each chunk.</summary>
    public int Count => _workers.Length;

    /// <summary>Bytes every algorithm has been given.</summary>
    public long Submitted { get; private set; }

    /// <summary>Queues <paramref name="data"/> for every algorithm; each calls <paramref name="release"/> when done with it.</summary>
    public void Submit(ReadOnlyMemory<byte> data, Action release)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        Submitted += data.Length;
        foreach (var w in _workers) w.Queue.Add((data, release));
    }

    /// <summary>Waits for every algorithm and returns the hashes as lower-case hex, by name, in the order given.</summary>
    /// <exception cref="AggregateException">A hashing thread failed.</exception>
    public IReadOnlyDictionary<string, string> Finish()
    {
        if (!_finished)
        {
            _finished = true;
            foreach (var w in _workers) w.Queue.CompleteAdding();
            foreach (var w in _workers) w.Thread.Join();
        }
        var failure = _workers.Select(w => w.Failure).FirstOrDefault(f => f is not null);
        if (failure is not null) throw new AggregateException("Hashing failed.", failure);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < _workers.Length; i++) result[AcquisitionHashes.Name(_algorithms[i])] = _workers[i].Result!;
        return result;
    }

    public void Dispose()
    {
        if (_finished) return;
        _finished = true;
        foreach (var w in _workers) w.Queue.CompleteAdding();
        foreach (var w in _workers) w.Thread.Join();
    }

    private sealed class Worker
    {
        public Worker(AcquisitionHashAlgorithm algorithm)
        {
            Thread = new Thread(() => Run(algorithm)) { IsBackground = true, Name = $"discemu-hash-{AcquisitionHashes.Name(algorithm)}" };
            Thread.Start();
        }

        public BlockingCollection<(ReadOnlyMemory<byte> Data, Action Release)> Queue { get; } = [];

        public Thread Thread { get; }

        public string? Result { get; private set; }

        public Exception? Failure { get; private set; }

        private void Run(AcquisitionHashAlgorithm algorithm)
        {
            using var hash = IncrementalHash.CreateHash(AcquisitionHashes.System(algorithm));
            foreach (var (data, release) in Queue.GetConsumingEnumerable())
            {
                try
                {
                    if (Failure is null) hash.AppendData(data.Span);
                }
                catch (Exception e) { Failure = e; }
                finally { release(); }
            }
            if (Failure is null) Result = Convert.ToHexStringLower(hash.GetHashAndReset());
        }
    }
}
