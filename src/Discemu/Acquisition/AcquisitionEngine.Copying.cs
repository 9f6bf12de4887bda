namespace Discemu.Acquisition;

public sealed partial class AcquisitionEngine
{
    /// <summary>What a copying pass does after a failed read.</summary>
    private enum ErrorSkip
    {
        /// <summary>Pass 1: skip ahead by the skip size, doubled after each error.</summary>
        Exponential,
        /// <summary>Passes 2–4: skip the rest of the non-tried block.</summary>
        RestOfBlock,
        /// <summary>Pass 5 (sweeping): go on with the next cluster.</summary>
        None,
    }

    /// <summary>An area a copying pass skipped because reads there were slow, and that pass's direction.</summary>
    private readonly record struct SlowArea(long Start, long End, bool Forward);

    private readonly List<SlowArea> _slowAreas = [];

    /// <summary>Every rescue phase the map still needs, starting where a resumed mapfile says the last run was.</summary>
    private void RunRescue()
    {
        int firstCopyPass = 1;
        long? copyPosition = null;
        int firstRetryPass = 1;
        if (_resume is { } r)
        {
            if (r.Phase == RescuePhase.Copying)
            {
                firstCopyPass = Math.Clamp(r.Pass, 1, 5);
                copyPosition = Math.Clamp(r.CurrentPosition, 0, _size);
            }
            else if (r.Phase == RescuePhase.Retrying) firstRetryPass = r.Pass;
        }
        if (_map.TotalOf(RescueBlockStatus.NonTried) > 0) Copy(firstCopyPass, copyPosition);
        if (!_options.NoTrim && _map.TotalOf(RescueBlockStatus.NonTrimmed) > 0) Trim();
        if (!_options.NoScrape && _map.TotalOf(RescueBlockStatus.NonScraped) > 0) Scrape();
        for (int i = 0; i < _options.RetryPasses && _map.TotalOf(RescueBlockStatus.BadSector) > 0; i++) Retry(firstRetryPass + i);
    }

    /// <summary>
    /// The copying phase, in up to five passes over non-tried areas, reversing direction after each:
    /// 1 skips ahead exponentially on errors and slow reads; 2 (the other way) delimits the skipped areas,
    /// skipping the rest of an area at its first error and still skipping slow reads; 3 and 4 read the areas
    /// skipped for slowness, each in the direction it was skipped in; 5 sweeps whatever is left without skipping.
    /// </summary>
    private void Copy(int firstPass, long? position)
    {
        for (int pass = firstPass; pass <= 5 && _map.TotalOf(RescueBlockStatus.NonTried) > 0; pass++)
        {
            bool forward = Forward(pass);
            long start = pass == firstPass && position is { } p ? p : forward ? 0 : _size;
            switch (pass)
            {
                case 1:
                    CopyPass(pass, forward, start, null, ErrorSkip.Exponential, slowSkip: true);
                    break;
                case 2:
                    CopyPass(pass, forward, start, null, ErrorSkip.RestOfBlock, slowSkip: true);
                    break;
                case 3 or 4:
                    var areas = _slowAreas.Where(a => a.Forward == forward).OrderBy(a => a.Start).ToList();
                    if (areas.Count > 0) CopyPass(pass, forward, start, areas, ErrorSkip.RestOfBlock, slowSkip: false);
                    break;
                default:
                    CopyPass(pass, forward, start, null, ErrorSkip.None, slowSkip: false);
                    break;
            }
        }
    }

    /// <summary>One copying pass over the non-tried areas (inside <paramref name="within"/> when given).</summary>
    private void CopyPass(int pass, bool forward, long start, List<SlowArea>? within, ErrorSkip onError, bool slowSkip)
    {
        BeginPhase(RescuePhase.Copying, AcquisitionStage.Copying, pass, forward, start);
        long skip = _skipInitial;
        long pos = start;
        while (NextNonTried(pos, forward, within) is (long blockStart, long blockEnd))
        {
            if (forward)
            {
                long p = blockStart;
                while (p < blockEnd)
                {
                    Tick(p);
                    long q = Math.Min(AlignDown(p, _cluster) + _cluster, blockEnd);
                    var outcome = Read(p, (int)(q - p), backward: false, checkSlow: slowSkip);
                    if (outcome == ReadOutcome.Good)
                    {
                        skip = _skipInitial;
                        p = q;
                        continue;
                    }
                    if (outcome == ReadOutcome.Slow)
                    {
                        p = q;
                        if (_skipInitial == 0) continue;
                        long to = Math.Min(AlignUp(q + skip, _sector), _size);
                        if (to > q) _slowAreas.Add(new SlowArea(q, to, forward));
                        p = to;
                        skip = Math.Min(skip * 2, _skipMax);
                        if (p >= blockEnd) break;
                        continue;
                    }
                    _map.Set(p, q - p, RescueBlockStatus.NonTrimmed);
                    p = onError switch
                    {
                        ErrorSkip.Exponential when _skipInitial > 0 => Math.Min(AlignUp(q + skip, _sector), _size),
                        ErrorSkip.RestOfBlock => blockEnd,
                        _ => q,
                    };
                    if (onError == ErrorSkip.Exponential) skip = Math.Min(skip * 2, _skipMax);
                }
                pos = Math.Max(p, blockEnd);
            }
            else
            {
                long p = blockEnd;
                while (p > blockStart)
                {
                    Tick(p);
                    long q = Math.Max(AlignDown(p - 1, _cluster), blockStart);
                    var outcome = Read(q, (int)(p - q), backward: true, checkSlow: slowSkip);
                    if (outcome == ReadOutcome.Good)
                    {
                        skip = _skipInitial;
                        p = q;
                        continue;
                    }
                    if (outcome == ReadOutcome.Slow)
                    {
                        p = q;
                        if (_skipInitial == 0) continue;
                        long to = Math.Max(AlignDown(q - skip, _sector), 0);
                        if (to < q) _slowAreas.Add(new SlowArea(to, q, forward));
                        p = to;
                        skip = Math.Min(skip * 2, _skipMax);
                        if (p <= blockStart) break;
                        continue;
                    }
                    _map.Set(q, p - q, RescueBlockStatus.NonTrimmed);
                    p = onError switch
                    {
                        ErrorSkip.Exponential when _skipInitial > 0 => Math.Max(AlignDown(q - skip, _sector), 0),
                        ErrorSkip.RestOfBlock => blockStart,
                        _ => q,
                    };
                    if (onError == ErrorSkip.Exponential) skip = Math.Min(skip * 2, _skipMax);
                }
                pos = Math.Min(p, blockStart);
            }
        }
        _position = forward ? _size : 0;
    }

    /// <summary>The next non-tried range from <paramref name="pos"/> in the pass's direction, limited to <paramref name="within"/> when given.</summary>
    private (long Start, long End)? NextNonTried(long pos, bool forward, List<SlowArea>? within)
    {
        if (within is null) return _map.Next(pos, RescueBlockStatus.NonTried, forward);
        if (forward)
        {
            foreach (var area in within)
            {
                if (area.End <= pos) continue;
                if (_map.Next(Math.Max(pos, area.Start), RescueBlockStatus.NonTried, true) is (long s, long e) && s < area.End)
                    return (s, Math.Min(e, area.End));
            }
            return null;
        }
        for (int i = within.Count - 1; i >= 0; i--)
        {
            var area = within[i];
            if (area.Start >= pos) continue;
            if (_map.Next(Math.Min(pos, area.End), RescueBlockStatus.NonTried, false) is (long s, long e) && e > area.Start)
                return (Math.Max(s, area.Start), e);
        }
        return null;
    }
}
