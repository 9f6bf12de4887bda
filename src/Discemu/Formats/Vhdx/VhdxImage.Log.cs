using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

public sealed partial class VhdxImage
{
    /// <summary>The file length known to be durable (what log entries may claim as FlushedFileOffset).</summary>
    private long _stableLength;
    private bool _sessionStarted;
    private volatile bool _dataGuidChanged;
    private ulong _logSequence;

    /// <summary>
    /// Replays a non-empty log (MS-VHDX 2.3.3): finds the active sequence and applies its entries in order,
    /// into the file when writable (then clears the log GUID), in memory otherwise. A log GUID with no
    /// valid entry behind it (a crash before the first entry was complete) is treated as an empty log,
    /// as nothing was applied from it.
    /// </summary>
    private void ReplayLog(long fileLength)
    {
        _stableLength = fileLength / MiB * MiB;
        if (!_header.HasLog) return;
        if (_header.LogLength == 0) throw new CorruptImageException("The log GUID is set but the log is empty.", Path);
        if (_header.LogLength > MaxLogLength) throw new UnsupportedFeatureException($"The log is {_header.LogLength} bytes (Discemu replays logs of at most 256 MiB).", Path);
        var log = new byte[_header.LogLength];
        _file.Read(_header.LogOffset, log);
        var sequence = VhdxLog.FindActiveSequence(log, _header.LogGuid);
        if (sequence.Count == 0)
        {
            _logState = "log GUID set, but no valid entries (nothing to replay)";
            return;
        }
        var head = sequence[^1];
        if (fileLength < head.FlushedFileOffset)
            throw new CorruptImageException($"The file is truncated: it is {fileLength} bytes, the log says at least {head.FlushedFileOffset}.", Path);
        _replayedEntries = sequence.Count;
        _logSequence = head.Sequence;
        if (!_writable)
        {
            _file.Overlay(sequence.SelectMany(e => e.Writes), head.LastFileOffset);
            _logState = "replayed in memory (the file was not modified)";
            return;
        }
        // The headers change (new FileWriteGuid, log GUID kept) before the replay writes anything.
        StartSession(clearLog: false);
        foreach (var entry in sequence)
        {
            foreach (var w in entry.Writes)
            {
                if (w.Data is not null) _file.Write(w.FileOffset, w.Data);
                else
                {
                    if (w.FileOffset + w.ZeroLength > _file.Length) _file.SetLength(AlignUp(w.FileOffset + w.ZeroLength, MiB));
                    _file.Zero(w.FileOffset, w.ZeroLength, punch: false);
                }
            }
        }
        if (_file.Length < head.LastFileOffset) _file.SetLength(head.LastFileOffset);
        _file.Flush();
        _stableLength = _file.Length / MiB * MiB;
        WriteHeader(_header with { LogGuid = Guid.Empty });
        WriteHeader(_header with { LogGuid = Guid.Empty });
        _file.Flush();
        _logState = "clean";
        _otherHeaderProblem = null;
    }

    /// <summary>Writes <paramref name="header"/> (with the next sequence number) over the non-current header; it becomes current.</summary>
    private void WriteHeader(VhdxHeader header)
    {
        var h = header with { SequenceNumber = _header.SequenceNumber + 1 };
        var buffer = new byte[HeaderSize];
        h.Write(buffer);
        int slot = 1 - _headerSlot;
        _file.Write(slot == 0 ? Header1Offset : Header2Offset, buffer);
        lock (_metaLock)
        {
            _header = h;
            _headerSlot = slot;
        }
    }

    /// <summary>
    /// Before the first modification of an open (MS-VHDX 2.2.2.1): a new FileWriteGuid in both headers,
    /// and the file grown to a whole number of megabytes.
    /// </summary>
    private void StartSession(bool clearLog, bool dataChange = false)
    {
        if (_sessionStarted) return;
        if (_file.Length % MiB != 0) _file.SetLength(AlignUp(_file.Length, MiB));
        var h = _header with { FileWriteGuid = Guid.NewGuid() };
        if (clearLog) h = h with { LogGuid = Guid.Empty };
        if (dataChange) h = h with { DataWriteGuid = Guid.NewGuid() };
        WriteHeader(h);
        WriteHeader(_header);
        _file.Flush();
        _stableLength = _file.Length / MiB * MiB;
        _sessionStarted = true;
        _dataGuidChanged |= dataChange;
        _otherHeaderProblem = null;
    }

    /// <summary>Before the first change of what the guest sees: a new DataWriteGuid (MS-VHDX 2.2.2).</summary>
    private void EnsureDataChange()
    {
        if (_dataGuidChanged) return;
        lock (_allocLock)
        {
            if (_dataGuidChanged) return;
            StartSession(clearLog: true, dataChange: true);
            if (_dataGuidChanged) return;
            WriteHeader(_header with { DataWriteGuid = Guid.NewGuid() });
            WriteHeader(_header);
            _file.Flush();
            _dataGuidChanged = true;
        }
    }

    /// <summary>
    /// Writes metadata pages through the log. The entry is written and flushed while the header's log GUID
    /// is still zero (so a torn entry is never replayed), then the header names the entry's GUID, the
    /// pages go to their places, and the log GUID is cleared again in both headers. A crash at any point
    /// leaves either the old metadata or a log whose replay gives the new. Caller holds the allocation lock.
    /// </summary>
    private void WriteThroughLog(List<(long Offset, byte[] Page)> pages)
    {
        if (pages.Count == 0) return;
        StartSession(clearLog: true);
        if (pages.Count > LogCapacity) throw new UnsupportedFeatureException($"A metadata update of {pages.Count} pages does not fit in the log.", Path);
        pages.Sort((a, b) => a.Offset.CompareTo(b.Offset));
        var guid = Guid.NewGuid();
        var entry = VhdxLog.BuildEntry(guid, ++_logSequence, 0, pages, _stableLength, AlignUp(Math.Max(_fileEnd, _file.Length), MiB));
        _file.Write(_header.LogOffset, entry);
        _file.Flush();
        _stableLength = _file.Length / MiB * MiB;
        WriteHeader(_header with { LogGuid = guid });
        _file.Flush();
        foreach (var (offset, page) in pages) _file.Write(offset, page);
        _file.Flush();
        WriteHeader(_header with { LogGuid = Guid.Empty });
        WriteHeader(_header);
        _file.Flush();
        _lastCommit = Environment.TickCount64;
    }

    /// <summary>Pages one log entry may carry.</summary>
    private int LogCapacity => VhdxLog.Capacity(_header.LogLength);
}
