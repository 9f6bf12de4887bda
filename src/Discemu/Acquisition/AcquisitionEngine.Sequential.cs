namespace Discemu.Acquisition;

public sealed partial class AcquisitionEngine
{
    private long _errorStart = -1, _errorEnd = -1;

    /// <summary>
    /// Forensic sequential mode: one forward pass in cluster reads; a failed cluster is read again sector by
    /// sector, each sector up to 1 + <see cref="AcquisitionOptions.RetryPasses"/> times; a sector that never
    /// reads is delivered as fill bytes and recorded as a bad sector. Every byte reaches the destination once,
    /// in order, so the hashes are always computed as the data streams through.
    /// </summary>
    private void RunSequential()
    {
        BeginPhase(RescuePhase.Copying, AcquisitionStage.Sequential, 1, true, 0);
        long pos = 0;
        while (pos < _size)
        {
            Tick(pos);
            long end = Math.Min(AlignDown(pos, _cluster) + _cluster, _size);
            if (Read(pos, (int)(end - pos), backward: false) == ReadOutcome.Failed)
            {
                for (long s = pos; s < end;)
                {
                    int n = (int)(Math.Min(AlignDown(s, _sector) + _sector, end) - s);
                    bool ok = false;
                    for (int attempt = 0; attempt <= _options.RetryPasses && !ok; attempt++)
                    {
                        Tick(s);
                        ok = Read(s, n, backward: false) != ReadOutcome.Failed;
                    }
                    if (!ok) DeliverBadSector(s, n);
                    s += n;
                }
            }
            pos = end;
        }
        FlushError();
        _position = _size;
    }

    /// <summary>Sends fill bytes for an unreadable sector down the stream and records it.</summary>
    private void DeliverBadSector(long offset, int length)
    {
        var span = _pipeline.Reserve(offset, length, backward: false);
        FillPattern(span, offset);
        _pipeline.Commit(offset, length);
        _map.Set(offset, length, RescueBlockStatus.BadSector);
        if (offset == _errorEnd) _errorEnd += length;
        else
        {
            FlushError();
            _errorStart = offset;
            _errorEnd = offset + length;
        }
    }

    /// <summary>Reports the pending run of contiguous bad sectors to the destination.</summary>
    private void FlushError()
    {
        if (_errorStart < 0) return;
        _pipeline.AddError(_errorStart, _errorEnd - _errorStart);
        _errorStart = _errorEnd = -1;
    }

    /// <summary>Fills <paramref name="span"/>, which holds media bytes from <paramref name="offset"/>, with the fill pattern (aligned to offset 0).</summary>
    private void FillPattern(Span<byte> span, long offset)
    {
        if (_fill.Length == 1)
        {
            span.Fill(_fill[0]);
            return;
        }
        int phase = (int)(offset % _fill.Length);
        for (int i = 0; i < span.Length; i++) span[i] = _fill[(phase + i) % _fill.Length];
    }
}
