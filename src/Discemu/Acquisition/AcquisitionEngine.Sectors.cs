namespace Discemu.Acquisition;

public sealed partial class AcquisitionEngine
{
    /// <summary>
    /// Trimming, one pass: for each non-trimmed block, read sector by sector forwards from its leading edge until
    /// a sector fails, then backwards from its trailing edge until one fails; the failed sectors become bad
    /// sectors and what lies between them non-scraped, without being read. An edge next to a bad sector is
    /// already trimmed and is left alone.
    /// </summary>
    private void Trim()
    {
        bool forward = !_options.Reverse;
        BeginPhase(RescuePhase.Trimming, AcquisitionStage.Trimming, 1, forward, forward ? 0 : _size);
        long pos = forward ? 0 : _size;
        while (_map.Next(pos, RescueBlockStatus.NonTrimmed, forward) is (long start, long end))
        {
            long lead = start;
            if (!(start > 0 && _map.StatusAt(start - 1) == RescueBlockStatus.BadSector))
            {
                while (lead < end)
                {
                    Tick(lead);
                    int n = (int)(Math.Min(AlignDown(lead, _sector) + _sector, end) - lead);
                    bool ok = Read(lead, n, backward: false) != ReadOutcome.Failed;
                    if (!ok) _map.Set(lead, n, RescueBlockStatus.BadSector);
                    lead += n;
                    if (!ok) break;
                }
            }
            long trail = end;
            if (lead < end && !(end < _size && _map.StatusAt(end) == RescueBlockStatus.BadSector))
            {
                while (trail > lead)
                {
                    Tick(trail);
                    long s = Math.Max(AlignDown(trail - 1, _sector), lead);
                    bool ok = Read(s, (int)(trail - s), backward: true) != ReadOutcome.Failed;
                    if (!ok) _map.Set(s, trail - s, RescueBlockStatus.BadSector);
                    trail = s;
                    if (!ok) break;
                }
            }
            if (trail > lead) _map.Set(lead, trail - lead, RescueBlockStatus.NonScraped);
            pos = forward ? end : start;
        }
    }

    /// <summary>Scraping, one pass: every non-scraped block is read sector by sector; failures become bad sectors.</summary>
    private void Scrape()
    {
        bool forward = !_options.Reverse;
        BeginPhase(RescuePhase.Scraping, AcquisitionStage.Scraping, 1, forward, forward ? 0 : _size);
        SectorPass(RescueBlockStatus.NonScraped, forward);
    }

    /// <summary>A retry pass: every bad sector is read once more; the direction alternates from pass to pass.</summary>
    private void Retry(int pass)
    {
        bool forward = Forward(pass);
        BeginPhase(RescuePhase.Retrying, AcquisitionStage.Retrying, pass, forward, forward ? 0 : _size);
        SectorPass(RescueBlockStatus.BadSector, forward);
    }

    /// <summary>Reads every sector in <paramref name="status"/> once, in the pass's direction; a failed sector ends up a bad sector.</summary>
    private void SectorPass(RescueBlockStatus status, bool forward)
    {
        long pos = forward ? 0 : _size;
        while (_map.Next(pos, status, forward) is (long start, long end))
        {
            if (forward)
            {
                long s = start;
                while (s < end)
                {
                    Tick(s);
                    int n = (int)(Math.Min(AlignDown(s, _sector) + _sector, end) - s);
                    if (Read(s, n, backward: false) == ReadOutcome.Failed && status != RescueBlockStatus.BadSector)
                        _map.Set(s, n, RescueBlockStatus.BadSector);
                    s += n;
                }
                pos = end;
            }
            else
            {
                long s = end;
                while (s > start)
                {
                    Tick(s);
                    long from = Math.Max(AlignDown(s - 1, _sector), start);
                    if (Read(from, (int)(s - from), backward: true) == ReadOutcome.Failed && status != RescueBlockStatus.BadSector)
                        _map.Set(from, s - from, RescueBlockStatus.BadSector);
                    s = from;
                }
                pos = start;
            }
        }
    }
}
