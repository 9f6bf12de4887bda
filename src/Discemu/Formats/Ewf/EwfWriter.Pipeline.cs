namespace Discemu.Formats.Ewf;

public sealed partial class EwfWriter
{
    /// <summary>One chunk on its way through the pipeline: filled by the caller, encoded on a worker, emitted in order.</summary>
    private sealed class Job(EwfWriter owner, int chunkSize) : IThreadPoolWorkItem
    {
        public readonly byte[] Input = new byte[chunkSize];
        public readonly byte[] Output = new byte[chunkSize];
        public readonly ManualResetEventSlim Done = new(true);
        public int Length, Stored;
        public bool Compressed, SharedZero;
        public uint Adler;
        public Exception? Error;

        public void Execute()
        {
            try { owner.Encode(this); }
            catch (Exception e) { Error = e; }
            finally { Done.Set(); }
        }
    }

    private readonly Queue<Job> _inFlight = new();
    private readonly Stack<Job> _free = new();
    private int _maxJobs, _jobsCreated, _fill;
    private bool _inline;
    private Job? _filling;
    private byte[] _zeroChunk = [];
    private uint _zeroAdler;

    private void InitPipeline(int threads)
    {
        _inline = threads == 1;
        _maxJobs = _inline ? 1 : threads * 3 + 2;
        var zeros = new byte[_chunkSize];
        _zeroAdler = Adler32.Compute(zeros);
        if (_zlibLevel > 0)
        {
            var output = new byte[_chunkSize];
            int n = EwfChunkCodec.Compress(zeros, _zlibLevel, output, _chunkSize);
            _zeroChunk = n > 0 ? output[..n] : [];
        }
    }

    private void AppendCore(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            _filling ??= TakeJob();
            int n = Math.Min(data.Length, _chunkSize - _fill);
            data[..n].CopyTo(_filling.Input.AsSpan(_fill));
            _fill += n;
            _position += n;
            data = data[n..];
            if (_fill == _chunkSize) Submit();
        }
    }

    private Job TakeJob()
    {
        if (_free.Count > 0) return _free.Pop();
        if (_jobsCreated < _maxJobs)
        {
            _jobsCreated++;
            return new Job(this, _chunkSize);
        }
        EmitOldest();
        return _free.Pop();
    }

    private void Submit()
    {
        var job = _filling!;
        job.Length = _fill;
        job.Error = null;
        _filling = null;
        _fill = 0;
        _hasher?.Append(job.Input.AsSpan(0, job.Length));
        if (_inline)
        {
            Encode(job);
            _inFlight.Enqueue(job);
            EmitOldest();
            return;
        }
        job.Done.Reset();
        _inFlight.Enqueue(job);
        ThreadPool.UnsafeQueueUserWorkItem(job, preferLocal: false);
        // Emit whatever is already finished, in order, so the file grows while workers compress.
        while (_inFlight.Count > 0 && _inFlight.Peek().Done.IsSet) EmitOldest();
    }

    /// <summary>Compresses (or checksums) one chunk; runs on a worker thread.</summary>
    private void Encode(Job job)
    {
        var data = job.Input.AsSpan(0, job.Length);
        job.Compressed = job.SharedZero = false;
        bool zero = job.Length == _chunkSize && !data.ContainsAnyExcept((byte)0);
        if (_zlibLevel > 0)
        {
            if (zero && _zeroChunk.Length > 0)
            {
                job.SharedZero = job.Compressed = true;
                job.Stored = _zeroChunk.Length;
                return;
            }
            // Stored compressed only when smaller than the raw data (EnCase's rule).
            int n = EwfChunkCodec.Compress(data, _zlibLevel, job.Output, job.Length);
            if (n > 0)
            {
                job.Compressed = true;
                job.Stored = n;
                return;
            }
        }
        job.Adler = zero ? _zeroAdler : Adler32.Compute(data);
        job.Stored = job.Length + 4;
    }

    private void EmitOldest()
    {
        var job = _inFlight.Dequeue();
        job.Done.Wait();
        try
        {
            if (job.Error is not null) throw job.Error is IOException ? job.Error : new InvalidOperationException("Compressing a chunk failed.", job.Error);
            if (job.SharedZero) WriteChunk(_zeroChunk, [], compressed: true);
            else if (job.Compressed) WriteChunk(job.Output.AsSpan(0, job.Stored), [], compressed: true);
            else
            {
                Span<byte> adler = stackalloc byte[4];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(adler, job.Adler);
                WriteChunk(job.Input.AsSpan(0, job.Length), adler, compressed: false);
            }
        }
        finally { _free.Push(job); }
    }

    private void FlushPartialChunk()
    {
        if (_filling is not null && _fill > 0) Submit();
    }

    private void DrainPipeline()
    {
        while (_inFlight.Count > 0) EmitOldest();
    }

    /// <summary>Waits for the workers so no buffer is in use, without writing anything.</summary>
    private void StopPipeline()
    {
        foreach (var job in _inFlight) job.Done.Wait();
        _inFlight.Clear();
    }
}
