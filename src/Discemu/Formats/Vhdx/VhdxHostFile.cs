using Discemu.Block;
using static Discemu.Formats.Vhdx.VhdxConstants;

namespace Discemu.Formats.Vhdx;

/// <summary>
/// Simulates a process killed in the middle of its file writes (tests only): after
/// <see cref="WritesBeforeCrash"/> modifying calls, the next one is cut short at a 4 KiB boundary (as a
/// SIGKILL can cut a large write) and it and every later modification throw <see cref="VhdxSimulatedCrashException"/>.
/// </summary>
internal sealed class VhdxFaultPlan(int writesBeforeCrash, int seed = 0)
{
    private readonly Random _random = new(seed);

    /// <summary>Modifying calls still allowed.</summary>
    public int WritesBeforeCrash { get; private set; } = writesBeforeCrash;

    /// <summary>True once the simulated crash happened.</summary>
    public bool Crashed { get; private set; }

    /// <summary>Modifying calls made so far.</summary>
    public int Writes { get; private set; }

    /// <summary>
    /// Called before a modification at <paramref name="offset"/>; returns how many bytes of it may still reach
    /// the file: all, or at the crash a prefix ending on a 4 KiB boundary of the file (page-cache granularity).
    /// </summary>
    public int Admit(long offset, int length)
    {
        if (Crashed) throw new VhdxSimulatedCrashException();
        Writes++;
        if (WritesBeforeCrash-- > 0) return length;
        Crashed = true;
        long firstBoundary = (offset + LogSectorSize - 1) / LogSectorSize * LogSectorSize;
        int boundaries = firstBoundary >= offset + length ? 0 : (int)((offset + length - 1 - firstBoundary) / LogSectorSize) + 1;
        int pick = _random.Next(boundaries + 1);
        return pick == 0 ? 0 : (int)(firstBoundary + (pick - 1) * (long)LogSectorSize - offset);
    }
}

/// <summary>Thrown by a <see cref="VhdxFaultPlan"/> at and after its simulated crash.</summary>
internal sealed class VhdxSimulatedCrashException() : Exception("Simulated crash.");

/// <summary>
/// The image file as the VHDX driver sees it: the host file, plus (for a read-only image whose log
/// was replayed in memory) the replayed pages and zeroed ranges laid over it.
/// </summary>
internal sealed class VhdxHostFile : IDisposable
{
    private readonly FileDevice _file;
    private readonly Dictionary<long, byte[]> _pages = [];
    private readonly List<(long Offset, long Length)> _zeroed = [];
    private long _virtualLength;

    /// <summary>Makes <see cref="Flush"/> a no-op on the host file (cache=unsafe).</summary>
    public void SkipFlushes() => _file.SkipFlush = true;

    public VhdxHostFile(FileDevice file)
    {
        _file = file;
        _virtualLength = file.Length;
    }

    /// <summary>The underlying file.</summary>
    public FileDevice Device => _file;

    /// <summary>Test hook: a simulated crash after a number of modifications.</summary>
    public VhdxFaultPlan? Faults { get; set; }

    /// <summary>True when log updates were replayed in memory over the file.</summary>
    public bool HasOverlay => _pages.Count > 0 || _zeroed.Count > 0;

    /// <summary>The file's length (as extended by an in-memory replay).</summary>
    public long Length => HasOverlay ? Math.Max(_virtualLength, _file.Length) : _file.Length;

    /// <summary>Reads; bytes past the end read as zeros.</summary>
    public void Read(long offset, Span<byte> buffer)
    {
        long fileLength = _file.Length;
        if (offset < fileLength)
        {
            int n = (int)Math.Min(buffer.Length, fileLength - offset);
            _file.Read(offset, buffer[..n]);
            buffer[n..].Clear();
        }
        else buffer.Clear();
        if (HasOverlay) ApplyOverlay(offset, buffer);
    }

    private void ApplyOverlay(long offset, Span<byte> buffer)
    {
        long end = offset + buffer.Length;
        foreach (var (zo, zl) in _zeroed)
        {
            long s = Math.Max(zo, offset), e = Math.Min(zo + zl, end);
            if (s < e) buffer.Slice((int)(s - offset), (int)(e - s)).Clear();
        }
        for (long page = offset / LogSectorSize * LogSectorSize; page < end; page += LogSectorSize)
        {
            if (!_pages.TryGetValue(page, out var data)) continue;
            long s = Math.Max(page, offset), e = Math.Min(page + LogSectorSize, end);
            data.AsSpan((int)(s - page), (int)(e - s)).CopyTo(buffer[(int)(s - offset)..]);
        }
    }

    /// <summary>Lays replayed log updates over the file in memory (read-only images); the file is not touched.</summary>
    public void Overlay(IEnumerable<VhdxLogWrite> writes, long minLength)
    {
        foreach (var w in writes)
        {
            if (w.Data is not null) _pages[w.FileOffset] = w.Data;
            else
            {
                for (long p = w.FileOffset; p < w.FileOffset + w.ZeroLength && _pages.Count > 0; p += LogSectorSize) _pages.Remove(p);
                _zeroed.Add((w.FileOffset, w.ZeroLength));
            }
            _virtualLength = Math.Max(_virtualLength, w.FileOffset + w.Length);
        }
        _virtualLength = Math.Max(_virtualLength, minLength);
    }

    /// <summary>Writes (only on images opened for writing, which never have an overlay).</summary>
    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        if (Faults is { } f)
        {
            int allowed = f.Admit(offset, data.Length);
            if (f.Crashed)
            {
                if (allowed > 0) _file.Write(offset, data[..allowed]);
                throw new VhdxSimulatedCrashException();
            }
        }
        _file.Write(offset, data);
    }

    /// <summary>Makes the range read as zeros, deallocating host space where the file system can.</summary>
    public void Zero(long offset, long length, bool punch)
    {
        if (Faults is { } f) { f.Admit(0, 0); if (f.Crashed) throw new VhdxSimulatedCrashException(); }
        if (offset >= _file.Length) return;
        _file.WriteZeroes(offset, Math.Min(length, _file.Length - offset), punch);
    }

    /// <summary>Grows (or shrinks) the file.</summary>
    public void SetLength(long length)
    {
        if (length == _file.Length) return;
        if (Faults is { } f) { f.Admit(0, 0); if (f.Crashed) throw new VhdxSimulatedCrashException(); }
        _file.Resize(length);
    }

    /// <summary>Makes completed writes durable.</summary>
    public void Flush()
    {
        if (Faults is { Crashed: true }) throw new VhdxSimulatedCrashException();
        _file.Flush();
    }

    /// <inheritdoc/>
    public void Dispose() => _file.Dispose();
}
