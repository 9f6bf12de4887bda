using System.Buffers.Binary;
using Discemu.Block;

namespace Discemu.Fuse;

/// <summary>What <see cref="FuseSplicePipe.Send"/> did.</summary>
internal enum SpliceOutcome
{
    /// <summary>The reply reached the kernel (or the request is gone: interrupted, or the session ended).</summary>
    Sent,

    /// <summary>Nothing was sent and the pipe is empty again: reply the ordinary way this time.</summary>
    Fallback,

    /// <summary>Nothing was sent and splicing does not work here: reply the ordinary way from now on.</summary>
    Disable,
}

/// <summary>
/// One request thread's pipe for zero-copy READ replies: the 16-byte fuse_out_header is written into the pipe,
/// the data is spliced from the host file into it (page references, no copy), and the pipe's content is spliced
/// into /dev/fuse as one reply, which the kernel copies straight into the FUSE file's pages (fuse_dev_splice_write).
/// A read(2)/write(2) reply copies the data twice more (page cache → server buffer → kernel).
/// </summary>
/// <remarks>
/// The kernel takes a spliced reply only when the pipe holds all of it, and splicing into a full pipe blocks: so a
/// reply is only attempted when its pages fit the pipe's slots (one per page a range touches, plus one for the
/// header). Every failure path empties the pipe before returning, so the next reply starts clean.
/// </remarks>
internal sealed unsafe class FuseSplicePipe : IDisposable
{
    /// <summary>The most host ranges one reply is spliced from (fragmented files fall back to copying).</summary>
    public const int MaxExtents = 64;

    private readonly int _readFd;
    private readonly int _writeFd;
    private readonly int _slots;
    private readonly int _pageSize = Environment.SystemPageSize;
    private readonly byte[] _header = new byte[FuseConstants.OutHeaderSize];

    private FuseSplicePipe(int readFd, int writeFd, int slots)
    {
        _readFd = readFd;
        _writeFd = writeFd;
        _slots = slots;
    }

    /// <summary>The pipe's capacity in pages (one page reference or one write per slot).</summary>
    public int Slots => _slots;

    /// <summary>Host ranges of the reply being assembled (reused by the owning thread).</summary>
    public List<HostExtent> Extents { get; } = new(MaxExtents);

    /// <summary>
    /// Creates a pipe that can carry a reply of <paramref name="maxData"/> bytes (grown with F_SETPIPE_SZ; root may go past
    /// /proc/sys/fs/pipe-max-size); a smaller pipe when it cannot grow that far (larger replies are then copied).
    /// Null when no pipe can be made at all.
    /// </summary>
    public static FuseSplicePipe? TryCreate(int maxData, out int errno)
    {
        errno = 0;
        int* fds = stackalloc int[2];
        if (FuseNative.Pipe2(fds, FuseNative.OCloExec) != 0)
        {
            errno = FuseNative.LastErrno;
            return null;
        }
        int page = Environment.SystemPageSize;
        // Data that does not start on a page boundary touches one page more; the header takes one slot.
        long wanted = (long)maxData + 2L * page;
        if (FuseNative.Fcntl(fds[1], FuseNative.FSetPipeSize, (int)Math.Min(wanted, int.MaxValue)) < 0)
        {
            errno = FuseNative.LastErrno;
            FuseNative.Fcntl(fds[1], FuseNative.FSetPipeSize, 1 << 20); // the unprivileged limit by default; best effort
        }
        int size = FuseNative.Fcntl(fds[1], FuseNative.FGetPipeSize, 0);
        if (size < 2 * page)
        {
            errno = size < 0 ? FuseNative.LastErrno : errno;
            FuseNative.Close(fds[0]);
            FuseNative.Close(fds[1]);
            return null;
        }
        return new FuseSplicePipe(fds[0], fds[1], size / page);
    }

    /// <summary>Pipe slots a reply of <see cref="Extents"/> needs: one per page each range touches, one for the header.</summary>
    private long SlotsNeeded()
    {
        long slots = 1;
        foreach (var e in Extents) slots += (e.Offset + e.Length - 1) / _pageSize - e.Offset / _pageSize + 1;
        return slots;
    }

    /// <summary>
    /// Sends the reply to request <paramref name="unique"/> whose <paramref name="dataLength"/> data bytes are
    /// <see cref="Extents"/>, through the pipe into <paramref name="fuseFd"/>.
    /// </summary>
    public SpliceOutcome Send(int fuseFd, ulong unique, int dataLength, uint moveFlag, out int errno)
    {
        errno = 0;
        if (SlotsNeeded() > _slots) return SpliceOutcome.Fallback;
        int total = FuseConstants.OutHeaderSize + dataLength;
        BinaryPrimitives.WriteUInt32LittleEndian(_header, (uint)total);
        BinaryPrimitives.WriteInt32LittleEndian(_header.AsSpan(4), 0);
        BinaryPrimitives.WriteUInt64LittleEndian(_header.AsSpan(8), unique);
        fixed (byte* h = _header)
        {
            if (FuseNative.Write(_writeFd, h, _header.Length) != _header.Length)
            {
                errno = FuseNative.LastErrno;
                Drain();
                return SpliceOutcome.Fallback;
            }
        }
        foreach (var e in Extents)
        {
            var outcome = SpliceIn(e, out errno);
            if (outcome != SpliceOutcome.Sent)
            {
                Drain();
                return outcome;
            }
        }
        while (true)
        {
            nint n = FuseNative.Splice(_readFd, null, fuseFd, null, (nuint)total, moveFlag);
            if (n == total) return SpliceOutcome.Sent;
            errno = n < 0 ? FuseNative.LastErrno : 0;
            if (n < 0 && errno == Errno.EINTR) continue;
            // The kernel took the reply off the pipe unless it refused it before looking (EINVAL: it wants the whole
            // reply in the pipe). Whatever is left is not a reply any more.
            bool untouched = Pending() == total;
            Drain();
            if (!untouched || errno is Errno.ENOENT or Errno.ENODEV) return SpliceOutcome.Sent; // answered (maybe with EIO), interrupted, or unmounted
            return errno is Errno.EINVAL or Errno.ENOSYS or Errno.EBADF ? SpliceOutcome.Disable : SpliceOutcome.Fallback;
        }
    }

    /// <summary>Splices one host range into the pipe, all of it (short splices are continued).</summary>
    private SpliceOutcome SpliceIn(HostExtent e, out int errno)
    {
        errno = 0;
        bool added = false;
        try
        {
            e.Handle.DangerousAddRef(ref added);
            int fd = (int)e.Handle.DangerousGetHandle();
            long offset = e.Offset;
            long left = e.Length;
            while (left > 0)
            {
                nint n = FuseNative.Splice(fd, &offset, _writeFd, null, (nuint)left, 0);
                if (n > 0)
                {
                    left -= n; // splice advanced offset
                    continue;
                }
                if (n == 0) return SpliceOutcome.Fallback; // end of the host file: the copy path knows what to do
                errno = FuseNative.LastErrno;
                if (errno == Errno.EINTR) continue;
                return errno is Errno.EINVAL or Errno.ENOSYS ? SpliceOutcome.Disable : SpliceOutcome.Fallback;
            }
            return SpliceOutcome.Sent;
        }
        catch (ObjectDisposedException)
        {
            return SpliceOutcome.Fallback; // the image was closed: the copy path reports it
        }
        finally
        {
            if (added) e.Handle.DangerousRelease();
        }
    }

    /// <summary>The bytes waiting in the pipe (-1 when unknown).</summary>
    private int Pending()
    {
        int n = 0;
        return FuseNative.Ioctl(_readFd, FuseNative.FionRead, &n) == 0 ? n : -1;
    }

    /// <summary>Empties the pipe (reads exactly what is waiting, so it never blocks).</summary>
    private void Drain()
    {
        byte* scratch = stackalloc byte[4096];
        for (int left = Pending(); left > 0;)
        {
            nint n = FuseNative.Read(_readFd, scratch, Math.Min(left, 4096));
            if (n <= 0) break;
            left -= (int)n;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        FuseNative.Close(_readFd);
        FuseNative.Close(_writeFd);
    }
}
