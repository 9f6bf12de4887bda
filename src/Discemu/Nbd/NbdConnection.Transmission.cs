using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Discemu.Block;
using static Discemu.Nbd.NbdConstants;

namespace Discemu.Nbd;

internal sealed partial class NbdConnection
{
    /// <summary>In-flight budget unit: a request costs one unit plus one per MiB of payload.</summary>
    private const int BudgetUnitShift = 20;

    /// <summary>Command flags any command may carry.</summary>
    private const ushort KnownFlags = CmdFlagFua | CmdFlagNoHole | CmdFlagDf | CmdFlagReqOne | CmdFlagFastZero;

    /// <summary>Most hole/data chunks one read reply is split into; the rest goes as data.</summary>
    private const int MaxReadChunks = 1024;

    /// <summary>Most descriptors in one block-status reply.</summary>
    private const int MaxStatusDescriptors = 4096;

    /// <summary>Reads requests and hands each to the thread pool until DISC, EOF, a protocol error or the server stops.</summary>
    private async Task TransmitAsync(CancellationToken stop)
    {
        var export = _export!;
        // The budget must hold the largest request (1 + 32 units) and bounds memory per connection.
        int budget = Math.Max(_server.MaxInFlightPerConnection, 2 + (MaxPayload >> BudgetUnitShift));
        using var slots = new SemaphoreSlim(budget, budget);
        var header = new byte[RequestSize];
        bool disconnect = false;
        try
        {
            while (true)
            {
                try { await _reader.ReadExactlyAsync(header, stop).ConfigureAwait(false); }
                catch (Exception e) when (e is EndOfStreamException or OperationCanceledException) { break; }
                if (!NbdRequest.TryRead(header, out var request)) throw new NbdProtocolException("bad request magic");
                if (request.Type == CmdDisc)
                {
                    disconnect = true;
                    break;
                }
                byte[]? payload = null;
                if (request.Type == CmdWrite)
                {
                    if (request.Length > MaxPayload) throw new NbdProtocolException($"write of {request.Length} bytes exceeds the limit");
                    payload = ArrayPool<byte>.Shared.Rent((int)request.Length);
                    try { await _reader.ReadExactlyAsync(payload.AsMemory(0, (int)request.Length), stop).ConfigureAwait(false); }
                    catch
                    {
                        ArrayPool<byte>.Shared.Return(payload);
                        throw;
                    }
                }
                int units = 1 + (int)(Math.Min(request.Length, (uint)MaxPayload) >> BudgetUnitShift);
                for (int i = 0; i < units; i++) await slots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                _ = Task.Run(async () =>
                {
                    try { await HandleAsync(export, request, payload).ConfigureAwait(false); }
                    finally
                    {
                        if (payload is not null) ArrayPool<byte>.Shared.Return(payload);
                        slots.Release(units);
                    }
                }, CancellationToken.None);
            }
        }
        finally
        {
            // Every request already received finishes (and is answered) before the socket closes.
            for (int i = 0; i < budget; i++) await slots.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        if (disconnect) export.Flush();
    }

    private async Task HandleAsync(NbdExport export, NbdRequest request, byte[]? payload)
    {
        var (reply, length) = Execute(export, request, payload);
        try { await SendAsync(reply.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false); }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException) { }
        finally { ArrayPool<byte>.Shared.Return(reply); }
    }

    /// <summary>Performs a request and builds its whole reply in a pooled buffer.</summary>
    private (byte[] Reply, int Length) Execute(NbdExport export, NbdRequest request, byte[]? payload)
    {
        if (Validate(export, request) is (not 0 and var error, var why)) return ErrorReply(request, error, why);
        var device = export.Device;
        long offset = (long)request.Offset;
        int length = (int)Math.Min(request.Length, int.MaxValue);
        bool fua = (request.Flags & CmdFlagFua) != 0;
        try
        {
            switch (request.Type)
            {
                case CmdRead:
                    return ReadReply(export, request);
                case CmdBlockStatus:
                    return BlockStatusReply(export, request);
                case CmdCache:
                    return SimpleReply(request, 0);
                case CmdFlush:
                    export.Flush();
                    return SimpleReply(request, 0);
            }
            export.Lock.EnterWriteLock();
            try
            {
                switch (request.Type)
                {
                    case CmdWrite:
                        device.Write(offset, payload.AsSpan(0, length));
                        break;
                    case CmdTrim:
                        device.Discard(offset, request.Length);
                        break;
                    case CmdWriteZeroes:
                        device.WriteZeroes(offset, request.Length, mayUnmap: (request.Flags & CmdFlagNoHole) == 0);
                        break;
                }
                if (fua) device.Flush();
            }
            finally { export.Lock.ExitWriteLock(); }
            return SimpleReply(request, 0);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _server.Log?.Invoke($"request {request.Type} at {request.Offset}+{request.Length} failed: {e.Message}");
            return ErrorReply(request, ErrorCode(e), e.Message);
        }
    }

    /// <summary>The protocol-level checks; returns (0, "") when the request may run.</summary>
    private (uint Error, string Why) Validate(NbdExport export, NbdRequest request)
    {
        ushort type = request.Type;
        if (type > CmdBlockStatus) return (EInval, "unknown command");
        if ((request.Flags & ~KnownFlags) != 0) return (EInval, "unknown command flags");
        if ((request.Flags & CmdFlagDf) != 0 && (type != CmdRead || !_structured)) return (EInval, "DF is only valid on reads with structured replies");
        if ((request.Flags & CmdFlagFastZero) != 0 && type != CmdWriteZeroes) return (EInval, "FAST_ZERO is only valid on WRITE_ZEROES");
        if ((request.Flags & CmdFlagReqOne) != 0 && type != CmdBlockStatus) return (EInval, "REQ_ONE is only valid on BLOCK_STATUS");
        bool mutates = type is CmdWrite or CmdTrim or CmdWriteZeroes;
        if (mutates && export.ReadOnly) return (EPerm, "the export is read-only");
        if (type == CmdFlush) return (0, "");
        ulong size = (ulong)export.Device.Length;
        if (request.Offset > size || request.Length > size - request.Offset)
            return (mutates ? ENoSpc : EInval, "the request extends past the end of the export");
        if (type == CmdRead && request.Length > MaxPayload) return (EOverflow, "the read is larger than the maximum block size");
        if (type == CmdBlockStatus)
        {
            if (!_baseAllocationActive) return (EInval, "no metadata context was negotiated");
            if (request.Length == 0) return (EInval, "zero-length block status");
        }
        if (type == CmdWriteZeroes && (request.Flags & CmdFlagFastZero) != 0 && (export.Device.Capabilities & DeviceCapabilities.FastZero) == 0)
            return (ENotSup, "the export cannot write zeroes fast");
        return (0, "");
    }

    private static uint ErrorCode(Exception e) => e switch
    {
        ArgumentOutOfRangeException => EInval,
        NotSupportedException => ENotSup,
        IOException io when io.HResult == 28 || io.Message.Contains("space", StringComparison.OrdinalIgnoreCase) => ENoSpc,
        _ => EIo,
    };

    private (byte[], int) ReadReply(NbdExport export, NbdRequest request)
    {
        var device = export.Device;
        long offset = (long)request.Offset;
        int length = (int)request.Length;
        export.Lock.EnterReadLock();
        try
        {
            if (!_structured)
            {
                byte[] simple = ArrayPool<byte>.Shared.Rent(16 + length);
                device.Read(offset, simple.AsSpan(16, length));
                WriteSimpleHeader(simple, request.Cookie, 0);
                return (simple, 16 + length);
            }
            if (length == 0) return StructuredReply(request, ReplyTypeNone, 0);
            var runs = ReadRuns(device, offset, length, (request.Flags & CmdFlagDf) != 0);
            int total = 0;
            foreach (var (_, len, hole) in runs) total += hole ? 32 : 28 + len;
            byte[] reply = ArrayPool<byte>.Shared.Rent(total);
            int pos = 0;
            for (int i = 0; i < runs.Count; i++)
            {
                var (start, len, hole) = runs[i];
                ushort flags = i == runs.Count - 1 ? ReplyFlagDone : (ushort)0;
                var span = reply.AsSpan(pos);
                WriteStructuredHeader(span, flags, hole ? ReplyTypeOffsetHole : ReplyTypeOffsetData, request.Cookie, hole ? 12 : 8 + len);
                BinaryPrimitives.WriteUInt64BigEndian(span[20..], (ulong)start);
                if (hole) BinaryPrimitives.WriteUInt32BigEndian(span[28..], (uint)len);
                else device.Read(start, span.Slice(28, len));
                pos += hole ? 32 : 28 + len;
            }
            return (reply, total);
        }
        finally { export.Lock.ExitReadLock(); }
    }

    /// <summary>Splits a read into data and hole runs from the device's allocation status.</summary>
    private static List<(long Start, int Length, bool Hole)> ReadRuns(BlockDevice device, long offset, int length, bool single)
    {
        var runs = new List<(long, int, bool)>();
        if (single || (device.Capabilities & DeviceCapabilities.Status) == 0)
        {
            runs.Add((offset, length, false));
            return runs;
        }
        long pos = offset, end = offset + length;
        while (pos < end)
        {
            bool hole;
            long len;
            if (runs.Count >= MaxReadChunks) (hole, len) = (false, end - pos);
            else
            {
                var status = device.GetStatus(pos, end - pos);
                (hole, len) = (status.IsZero, status.Length);
            }
            if (runs.Count > 0 && runs[^1] is var (s, l, h) && h == hole) runs[^1] = (s, l + (int)len, h);
            else runs.Add((pos, (int)len, hole));
            pos += len;
        }
        return runs;
    }

    private (byte[], int) BlockStatusReply(NbdExport export, NbdRequest request)
    {
        var device = export.Device;
        long pos = (long)request.Offset, end = pos + request.Length;
        int max = (request.Flags & CmdFlagReqOne) != 0 ? 1 : MaxStatusDescriptors;
        var descriptors = new List<(uint Length, uint Flags)>();
        export.Lock.EnterReadLock();
        try
        {
            while (pos < end)
            {
                var status = device.GetStatus(pos, end - pos);
                uint flags = ((status.Flags & BlockStatusFlags.Data) == 0 ? StateHole : 0) | (status.IsZero ? StateZero : 0);
                if (descriptors.Count > 0 && descriptors[^1].Flags == flags) descriptors[^1] = (descriptors[^1].Length + (uint)status.Length, flags);
                else if (descriptors.Count == max) break;
                else descriptors.Add(((uint)status.Length, flags));
                pos += status.Length;
            }
        }
        finally { export.Lock.ExitReadLock(); }
        int payload = 4 + 8 * descriptors.Count;
        byte[] reply = ArrayPool<byte>.Shared.Rent(20 + payload);
        WriteStructuredHeader(reply, ReplyFlagDone, ReplyTypeBlockStatus, request.Cookie, payload);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(20), BaseAllocationId);
        for (int i = 0; i < descriptors.Count; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(24 + 8 * i), descriptors[i].Length);
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(28 + 8 * i), descriptors[i].Flags);
        }
        return (reply, 20 + payload);
    }

    private (byte[], int) ErrorReply(NbdRequest request, uint error, string message)
    {
        if (!_structured || request.Type is not (CmdRead or CmdBlockStatus)) return SimpleReply(request, error);
        byte[] text = NbdStrings.Encode(message.Length > 200 ? message[..200] : message);
        byte[] reply = ArrayPool<byte>.Shared.Rent(26 + text.Length);
        WriteStructuredHeader(reply, ReplyFlagDone, ReplyTypeError, request.Cookie, 6 + text.Length);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(20), error);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(24), (ushort)text.Length);
        text.CopyTo(reply, 26);
        return (reply, 26 + text.Length);
    }

    private static (byte[], int) SimpleReply(NbdRequest request, uint error)
    {
        byte[] reply = ArrayPool<byte>.Shared.Rent(16);
        WriteSimpleHeader(reply, request.Cookie, error);
        return (reply, 16);
    }

    private static (byte[], int) StructuredReply(NbdRequest request, ushort type, int payloadLength)
    {
        byte[] reply = ArrayPool<byte>.Shared.Rent(20 + payloadLength);
        WriteStructuredHeader(reply, ReplyFlagDone, type, request.Cookie, payloadLength);
        return (reply, 20 + payloadLength);
    }

    private static void WriteSimpleHeader(Span<byte> dst, ulong cookie, uint error)
    {
        BinaryPrimitives.WriteUInt32BigEndian(dst, SimpleReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(dst[4..], error);
        BinaryPrimitives.WriteUInt64BigEndian(dst[8..], cookie);
    }

    private static void WriteStructuredHeader(Span<byte> dst, ushort flags, ushort type, ulong cookie, int length)
    {
        BinaryPrimitives.WriteUInt32BigEndian(dst, StructuredReplyMagic);
        BinaryPrimitives.WriteUInt16BigEndian(dst[4..], flags);
        BinaryPrimitives.WriteUInt16BigEndian(dst[6..], type);
        BinaryPrimitives.WriteUInt64BigEndian(dst[8..], cookie);
        BinaryPrimitives.WriteUInt32BigEndian(dst[16..], (uint)length);
    }
}
