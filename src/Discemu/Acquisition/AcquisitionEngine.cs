using Discemu.Block;

namespace Discemu.Acquisition;

/// <summary>
/// Images a possibly failing source onto a destination, in one of two modes.
/// <para><b>Rescue</b> (random-access destinations), after GNU ddrescue's algorithm as its manual describes it:
/// copying passes with large reads that skip ahead on errors and slow areas, trimming the edges of failed
/// reads sector by sector, scraping what is left sector by sector, then retry passes over the bad sectors;
/// the state is a <see cref="RescueMap"/> saved as a ddrescue mapfile, so an interrupted run resumes without
/// reading finished areas again. Unrecovered areas are finally written with the fill pattern.</para>
/// <para><b>Sequential</b> (forensic mode, required by sequential destinations such as E01): one forward pass;
/// a failed cluster is re-read sector by sector, each sector up to 1 + retries times; unreadable sectors are
/// written as fill and recorded; nothing is ever re-read out of order.</para>
/// Hashes are computed in parallel with reading and writing, in media order: on the fly while the reads are in
/// order, and by re-reading the destination from the first out-of-order point after a rescue.
/// </summary>
public sealed partial class AcquisitionEngine
{
    private readonly BlockDevice _source;
    private readonly AcquisitionSink _sink;
    private readonly AcquisitionOptions _options;
    private readonly RescueMap _map;
    private readonly MapfileState? _resume;
    private readonly IAcquisitionClock _clock;
    private readonly AcquisitionResult _result;
    private readonly long _size;
    private readonly int _sector;
    private readonly int _cluster;
    private readonly long _skipInitial;
    private readonly long _skipMax;
    private readonly byte[] _fill;
    private MultiHasher? _hasher;
    private AcquisitionPipeline _pipeline = null!;

    private RescuePhase _phase = RescuePhase.Copying;
    private AcquisitionStage _stage = AcquisitionStage.Copying;
    private int _pass = 1;
    private bool _forward = true;
    private long _position;
    private TimeSpan _start;
    private TimeSpan _lastSave;
    private TimeSpan _lastSync;
    private TimeSpan _lastProgress;
    private long _lastProgressBytes;
    private TimeSpan _stageStart;
    private long _stageBytesAtStart;
    private long _stageDone, _stageTotal;

    private AcquisitionEngine(BlockDevice source, AcquisitionSink sink, AcquisitionOptions options, MapfileState? resume)
    {
        _source = source;
        _sink = sink;
        _options = options;
        _resume = resume;
        _size = source.Length;
        _map = resume?.Map.Clone() ?? new RescueMap(_size);
        if (_map.Size < _size) _map.Extend(_size);
        _map.JoinSubsectors(options.SectorSize);
        _clock = options.Clock ?? new StopwatchClock();
        _sector = options.SectorSize;
        _cluster = options.ClusterBytes;
        long initial = options.SkipInitial ?? Math.Max(64 << 10, _size / 100_000);
        _skipInitial = AlignUp(initial, _sector);
        _skipMax = options.SkipMax is { } max ? Math.Max(AlignUp(max, _sector), _skipInitial) : Math.Max(_skipInitial, AlignUp(_size / 100, _sector));
        _fill = options.Fill.ToArray();
        _result = new AcquisitionResult(_map) { Sequential = options.Sequential || sink is SequentialSink };
    }

    /// <summary>
    /// Acquires <paramref name="source"/> onto <paramref name="sink"/>. With <paramref name="resume"/> (a loaded mapfile)
    /// only what it does not mark finished is read; the destination must then hold what the earlier run wrote.
    /// </summary>
    /// <exception cref="BadArgumentException">An option is invalid, the map does not fit the source, or a sequential run was asked to resume.</exception>
    /// <exception cref="AcquisitionInterruptedException">The run was cancelled; the mapfile was saved first.</exception>
    /// <exception cref="ImageAccessException">The mapfile cannot be written.</exception>
    public static AcquisitionResult Run(BlockDevice source, AcquisitionSink sink, AcquisitionOptions options, MapfileState? resume = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (sink.Length != source.Length)
            throw new BadArgumentException($"The destination holds {sink.Length} bytes but the source has {source.Length}.", sink.Path);
        if (resume is not null && resume.Map.Size > source.Length)
            throw new BadArgumentException($"The mapfile covers {resume.Map.Size} bytes, more than the source's {source.Length}.", options.MapfilePath);
        bool sequential = options.Sequential || sink is SequentialSink;
        if (sequential && resume is not null && resume.Map.TotalOf(RescueBlockStatus.NonTried) != resume.Map.Size)
            throw new BadArgumentException("A sequential acquisition cannot resume from a mapfile with progress; resume in rescue mode (a raw or image destination without --sequential).", options.MapfilePath);
        var engine = new AcquisitionEngine(source, sink, options, resume);
        engine.Execute(sequential);
        return engine._result;
    }

    private void Execute(bool sequential)
    {
        _start = _lastSave = _lastProgress = _stageStart = _clock.Elapsed;
        _hasher = _options.Hashes.Count > 0 ? new MultiHasher(_options.Hashes) : null;
        int bufferSize = (int)Math.Max(AlignUp(_options.BufferSize, _cluster), _cluster);
        _pipeline = new AcquisitionPipeline(_sink, _hasher, bufferSize, _options.Buffers, _options.Sparse);
        try
        {
            if (sequential) RunSequential();
            else
            {
                RunRescue();
                Fill();
            }
            _phase = RescuePhase.Finished;
            SaveMap();
            FinishHashes();
            _sink.Complete(_result.Hashes);
            _stage = AcquisitionStage.Finished;
            Report(force: true);
        }
        catch (OperationCanceledException e) when (e is not AcquisitionInterruptedException)
        {
            if (_phase != RescuePhase.Finished) SaveMap();
            _result.Elapsed = _clock.Elapsed - _start;
            throw new AcquisitionInterruptedException(_result, e.CancellationToken);
        }
        finally
        {
            _result.Elapsed = _clock.Elapsed - _start;
            _hasher?.Dispose();
            _pipeline.Dispose();
        }
    }

    private enum ReadOutcome { Good, Slow, Failed }

    /// <summary>
    /// Reads <c>[offset, offset+length)</c> from the source into the pipeline. A good read is committed and marked
    /// finished; a failed one changes nothing (the caller records it). Slow means good but below the minimum rate
    /// or over the timeout.
    /// </summary>
    private ReadOutcome Read(long offset, int length, bool backward, bool checkSlow = false)
    {
        var span = _pipeline.Reserve(offset, length, backward);
        var before = _clock.Elapsed;
        bool ok;
        _result.Reads++;
        try
        {
            _source.Read(offset, span);
            ok = true;
        }
        catch (Exception e) when (IsReadError(e))
        {
            ok = false;
        }
        var took = _clock.Elapsed - before;
        if (!ok)
        {
            _result.ReadErrors++;
            return ReadOutcome.Failed;
        }
        _pipeline.Commit(offset, length);
        _map.Set(offset, length, RescueBlockStatus.Finished);
        _result.BytesRead += length;
        if (checkSlow && IsSlow(length, took))
        {
            _result.SlowReads++;
            return ReadOutcome.Slow;
        }
        return ReadOutcome.Good;
    }

    /// <summary>Errors that mean "this range cannot be read" rather than "stop": I/O errors and damaged image data.</summary>
    private static bool IsReadError(Exception e) => e is IOException or CorruptImageException;

    private bool IsSlow(int length, TimeSpan took)
    {
        if (_options.ReadTimeout is { } timeout && took > timeout) return true;
        if (_options.MinReadRate is not { } minRate) return false;
        if (minRate == 0)
        {
            // Automatic: a tenth of the average rate so far, once there is a second of history.
            var elapsed = (_clock.Elapsed - _start).TotalSeconds;
            if (elapsed < 1) return false;
            minRate = (long)(_result.BytesRead / elapsed / 10);
            if (minRate <= 0) return false;
        }
        return took > TimeSpan.Zero && length / took.TotalSeconds < minRate;
    }

    /// <summary>Called between reads: honours cancellation, saves the mapfile and reports progress when due.</summary>
    private void Tick(long position)
    {
        _position = position;
        _options.CancellationToken.ThrowIfCancellationRequested();
        var now = _clock.Elapsed;
        if (_options.MapfilePath is not null && now - _lastSave >= _options.MapfileInterval) SaveMap();
        if (now - _lastProgress >= _options.ProgressInterval) Report(force: false);
    }

    /// <summary>Starts a phase (or pass): records it, saves the mapfile and reports.</summary>
    private void BeginPhase(RescuePhase phase, AcquisitionStage stage, int pass, bool forward, long position)
    {
        _phase = phase;
        _stage = stage;
        _pass = pass;
        _forward = forward;
        _position = position;
        _stageStart = _clock.Elapsed;
        _stageBytesAtStart = _result.BytesRead;
        SaveMap();
        Report(force: true);
    }

    /// <summary>
    /// Saves the mapfile: first every finished read is written to the destination (and, every
    /// <see cref="AcquisitionOptions.SyncInterval"/>, flushed to disk with the mapfile), so the mapfile never claims
    /// data the destination does not hold, even after a crash.
    /// </summary>
    private void SaveMap()
    {
        if (_options.MapfilePath is null) return;
        _pipeline.Drain();
        var now = _clock.Elapsed;
        bool sync = _options.SyncInterval is { } every && now - _lastSync >= every;
        if (_sink is RandomAccessSink random)
        {
            if (sync) random.Flush();
            else random.Checkpoint();
        }
        if (sync) _lastSync = now;
        var header = _options.MapfileHeader ?? new MapfileHeader("discemu", "", "", DateTimeOffset.UtcNow);
        var state = new MapfileState(_map, _position, _phase, _pass);
        Mapfile.Save(_options.MapfilePath, Mapfile.Format(state, header, DateTimeOffset.UtcNow, Mapfile.Describe(_phase, _pass, _forward)), sync);
        _lastSave = _clock.Elapsed;
    }

    private void Report(bool force)
    {
        var callback = _options.Progress;
        var now = _clock.Elapsed;
        if (callback is null || (!force && now - _lastProgress < _options.ProgressInterval)) return;
        double interval = (now - _lastProgress).TotalSeconds;
        double current = interval > 0 ? (_result.BytesRead - _lastProgressBytes) / interval : 0;
        double stageSeconds = (now - _stageStart).TotalSeconds;
        double average = stageSeconds > 0 ? (_result.BytesRead - _stageBytesAtStart) / stageSeconds : 0;
        _lastProgress = now;
        _lastProgressBytes = _result.BytesRead;
        long left = _stage is AcquisitionStage.Hashing or AcquisitionStage.VerifyingDestination or AcquisitionStage.VerifyingSource
            ? _stageTotal - _stageDone
            : _map.TotalOf(RescueBlockStatus.NonTried) + _map.TotalOf(RescueBlockStatus.NonTrimmed) + _map.TotalOf(RescueBlockStatus.NonScraped);
        double rate = _stage is AcquisitionStage.Hashing ? (stageSeconds > 0 ? _stageDone / stageSeconds : 0) : average;
        callback(new AcquisitionProgress
        {
            Stage = _stage,
            Pass = _pass,
            Forward = _forward,
            Position = _position,
            Size = _size,
            Rescued = _map.TotalOf(RescueBlockStatus.Finished),
            NonTried = _map.TotalOf(RescueBlockStatus.NonTried),
            NonTrimmed = _map.TotalOf(RescueBlockStatus.NonTrimmed),
            NonScraped = _map.TotalOf(RescueBlockStatus.NonScraped),
            BadSector = _map.TotalOf(RescueBlockStatus.BadSector),
            BadAreas = _map.AreasOf(RescueBlockStatus.BadSector),
            ReadErrors = _result.ReadErrors,
            SlowReads = _result.SlowReads,
            CurrentRate = current,
            AverageRate = average,
            Elapsed = now - _start,
            Remaining = rate > 0 && left > 0 ? TimeSpan.FromSeconds(Math.Min(left / rate, TimeSpan.MaxValue.TotalSeconds / 2)) : left == 0 ? TimeSpan.Zero : null,
            StageDone = _stageDone,
            StageTotal = _stageTotal,
        });
    }

    private static long AlignUp(long value, long unit) => value % unit == 0 ? value : checked(value + unit - value % unit);

    private static long AlignDown(long value, long unit) => value - value % unit;

    /// <summary>The length of the sector starting at <paramref name="offset"/> (the last one may be short).</summary>
    private int SectorAt(long offset) => (int)Math.Min(_sector, _size - offset);

    private bool Forward(int pass) => (pass % 2 == 1) != _options.Reverse;
}

/// <summary>An acquisition was cancelled; the mapfile was saved, so running it again resumes.</summary>
public sealed class AcquisitionInterruptedException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public AcquisitionInterruptedException(AcquisitionResult partial, CancellationToken token)
        : base("The acquisition was interrupted.", token) => Partial = partial;

    /// <summary>The state when the run stopped (map and this run's counters; no hashes).</summary>
    public AcquisitionResult Partial { get; }
}
