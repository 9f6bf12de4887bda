namespace Discemu.Acquisition;

public sealed partial class AcquisitionEngine
{
    /// <summary>Writes the fill pattern over every area not recovered (zeros are written as a hole where the destination can).</summary>
    private void Fill()
    {
        if (_map.IsComplete || _sink is not RandomAccessSink random) return;
        _pipeline.Drain();
        _stage = AcquisitionStage.Filling;
        Report(force: true);
        bool zeros = _fill.AsSpan().IndexOfAnyExcept((byte)0) < 0;
        byte[]? buffer = zeros ? null : new byte[(int)Math.Min(1 << 20, _size)];
        foreach (var block in _map.Blocks.Where(b => b.Status != RescueBlockStatus.Finished).ToList())
        {
            _options.CancellationToken.ThrowIfCancellationRequested();
            if (zeros)
            {
                random.WriteZeroes(block.Offset, block.Length);
                continue;
            }
            for (long pos = block.Offset; pos < block.End;)
            {
                int n = (int)Math.Min(buffer!.Length, block.End - pos);
                FillPattern(buffer.AsSpan(0, n), pos);
                random.Write(pos, buffer.AsSpan(0, n));
                pos += n;
            }
        }
    }

    /// <summary>
    /// Completes the hashes: whatever was not hashed in media order while reading (everything from the first
    /// out-of-order read on) is read back from the destination, which now holds the final image.
    /// </summary>
    private void FinishHashes()
    {
        _pipeline.Drain();
        _result.HashedWhileReading = _pipeline.HashedUpTo;
        if (_hasher is null) return;
        if (_pipeline.HashedUpTo < _size)
        {
            if (_sink is not RandomAccessSink random) throw new InvalidOperationException("A sequential destination received data out of order.");
            _pipeline.WriteEnabled = false;
            _pipeline.ResumeInOrderHashing();
            _stage = AcquisitionStage.Hashing;
            _stageStart = _clock.Elapsed;
            _stageTotal = _size - _pipeline.HashedUpTo;
            _stageDone = 0;
            int step = _pipeline.BufferSize;
            for (long pos = _pipeline.HashedUpTo; pos < _size;)
            {
                _options.CancellationToken.ThrowIfCancellationRequested();
                int n = (int)Math.Min(step, _size - pos);
                random.Read(pos, _pipeline.Reserve(pos, n, backward: false));
                _pipeline.Commit(pos, n);
                _pipeline.Submit();
                pos += n;
                _position = pos;
                _stageDone += n;
                Report(force: false);
            }
        }
        _result.Hashes = _hasher.Finish();
    }
}
