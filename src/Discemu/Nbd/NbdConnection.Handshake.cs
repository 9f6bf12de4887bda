using System.Buffers.Binary;
using System.Net.Sockets;

namespace Discemu.Nbd;

/// <summary>One client connection: the handshake (this file) and transmission (NbdConnection.Transmission.cs).</summary>
internal sealed partial class NbdConnection
{
    /// <summary>Most options one handshake may send before it is dropped.</summary>
    private const int MaxOptions = 1024;

    private readonly NbdServer _server;
    private readonly Socket _socket;
    private readonly Stream _reader;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private bool _structured;
    private bool _noZeroes;
    private string? _metaExport;
    private bool _baseAllocation;
    private NbdExport? _export;
    private bool _baseAllocationActive;

    public NbdConnection(NbdServer server, Socket socket)
    {
        _server = server;
        _socket = socket;
        _reader = new BufferedStream(new NetworkStream(socket, ownsSocket: false), 64 * 1024);
    }

    /// <summary>Runs the handshake and then serves requests until the client leaves or the server stops.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            bool go;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                timeout.CancelAfter(_server.HandshakeTimeout);
                go = await HandshakeAsync(timeout.Token).ConfigureAwait(false);
            }
            if (go) await TransmitAsync(stop).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or NbdProtocolException)
        {
            if (e is NbdProtocolException) _server.Log?.Invoke($"client dropped: {e.Message}");
        }
        finally
        {
            try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
            _socket.Dispose();
            _reader.Dispose();
        }
    }

    private async Task<bool> HandshakeAsync(CancellationToken token)
    {
        var hello = new byte[18];
        BinaryPrimitives.WriteUInt64BigEndian(hello, NbdConstants.InitMagic);
        BinaryPrimitives.WriteUInt64BigEndian(hello.AsSpan(8), NbdConstants.OptionMagic);
        BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(16), NbdConstants.FlagFixedNewstyle | NbdConstants.FlagNoZeroes);
        await SendAsync(hello, token).ConfigureAwait(false);

        var buf = new byte[NbdOptionHeader.Size];
        await _reader.ReadExactlyAsync(buf.AsMemory(0, 4), token).ConfigureAwait(false);
        uint clientFlags = BinaryPrimitives.ReadUInt32BigEndian(buf);
        if ((clientFlags & ~(NbdConstants.ClientFlagFixedNewstyle | NbdConstants.ClientFlagNoZeroes)) != 0)
            throw new NbdProtocolException($"unknown client flags 0x{clientFlags:x}");
        _noZeroes = (clientFlags & NbdConstants.ClientFlagNoZeroes) != 0;

        for (int n = 0; n < MaxOptions; n++)
        {
            await _reader.ReadExactlyAsync(buf, token).ConfigureAwait(false);
            if (!NbdOptionHeader.TryRead(buf, out var header)) throw new NbdProtocolException("bad option magic");
            if (header.Length > NbdConstants.MaxOptionLength) throw new NbdProtocolException($"option of {header.Length} bytes");
            var data = new byte[header.Length];
            await _reader.ReadExactlyAsync(data, token).ConfigureAwait(false);
            switch (header.Option)
            {
                case NbdConstants.OptExportName:
                    if (!NbdStrings.TryDecode(data, out string name) || _server.FindExport(name) is not { } byName)
                        throw new NbdProtocolException("EXPORT_NAME for an unknown export");
                    await SendExportNameReplyAsync(byName, token).ConfigureAwait(false);
                    Enter(byName, name);
                    return true;
                case NbdConstants.OptAbort:
                    await SendOptionReplyAsync(header.Option, NbdConstants.RepAck, [], token).ConfigureAwait(false);
                    return false;
                case NbdConstants.OptList:
                    await ListAsync(header.Option, data, token).ConfigureAwait(false);
                    break;
                case NbdConstants.OptInfo:
                case NbdConstants.OptGo:
                    if (await InfoAsync(header.Option, data, token).ConfigureAwait(false) && header.Option == NbdConstants.OptGo) return true;
                    break;
                case NbdConstants.OptStructuredReply:
                    if (data.Length != 0) await SendErrorAsync(header.Option, NbdConstants.RepErrInvalid, "STRUCTURED_REPLY takes no data", token).ConfigureAwait(false);
                    else
                    {
                        _structured = true;
                        await SendOptionReplyAsync(header.Option, NbdConstants.RepAck, [], token).ConfigureAwait(false);
                    }
                    break;
                case NbdConstants.OptListMetaContext:
                case NbdConstants.OptSetMetaContext:
                    await MetaContextAsync(header.Option, data, token).ConfigureAwait(false);
                    break;
                default:
                    await SendErrorAsync(header.Option, NbdConstants.RepErrUnsup, "option not supported", token).ConfigureAwait(false);
                    break;
            }
        }
        throw new NbdProtocolException("too many options");
    }

    private void Enter(NbdExport export, string requestedName)
    {
        _export = export;
        _baseAllocationActive = _structured && _baseAllocation && _metaExport == requestedName;
    }

    private async Task SendExportNameReplyAsync(NbdExport export, CancellationToken token)
    {
        var reply = new byte[_noZeroes ? 10 : 134];
        BinaryPrimitives.WriteUInt64BigEndian(reply, (ulong)export.Device.Length);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), export.TransmissionFlags(_structured));
        await SendAsync(reply, token).ConfigureAwait(false);
    }

    private async Task ListAsync(uint option, byte[] data, CancellationToken token)
    {
        if (data.Length != 0)
        {
            await SendErrorAsync(option, NbdConstants.RepErrInvalid, "LIST takes no data", token).ConfigureAwait(false);
            return;
        }
        foreach (var export in _server.Exports)
        {
            byte[] name = NbdStrings.Encode(export.Name);
            byte[] description = NbdStrings.Encode(export.Description);
            var payload = new byte[4 + name.Length + description.Length];
            BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)name.Length);
            name.CopyTo(payload, 4);
            description.CopyTo(payload, 4 + name.Length);
            await SendOptionReplyAsync(option, NbdConstants.RepServer, payload, token).ConfigureAwait(false);
        }
        await SendOptionReplyAsync(option, NbdConstants.RepAck, [], token).ConfigureAwait(false);
    }

    /// <summary>Answers INFO or GO; true when the export was found and the reply ended in ACK.</summary>
    private async Task<bool> InfoAsync(uint option, byte[] data, CancellationToken token)
    {
        if (!NbdInfoRequest.TryRead(data, out var request))
        {
            await SendErrorAsync(option, NbdConstants.RepErrInvalid, "malformed INFO/GO request", token).ConfigureAwait(false);
            return false;
        }
        if (_server.FindExport(request.Name) is not { } export)
        {
            await SendErrorAsync(option, NbdConstants.RepErrUnknown, "no such export", token).ConfigureAwait(false);
            return false;
        }
        var info = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(info, NbdConstants.InfoExport);
        BinaryPrimitives.WriteUInt64BigEndian(info.AsSpan(2), (ulong)export.Device.Length);
        BinaryPrimitives.WriteUInt16BigEndian(info.AsSpan(10), export.TransmissionFlags(_structured));
        await SendOptionReplyAsync(option, NbdConstants.RepInfo, info, token).ConfigureAwait(false);
        foreach (ushort type in request.InfoTypes.Distinct())
        {
            byte[]? payload = type switch
            {
                NbdConstants.InfoName => InfoString(NbdConstants.InfoName, export.Name),
                NbdConstants.InfoDescription when export.Description.Length > 0 => InfoString(NbdConstants.InfoDescription, export.Description),
                NbdConstants.InfoBlockSize => BlockSizeInfo(),
                _ => null,
            };
            if (payload is not null) await SendOptionReplyAsync(option, NbdConstants.RepInfo, payload, token).ConfigureAwait(false);
        }
        await SendOptionReplyAsync(option, NbdConstants.RepAck, [], token).ConfigureAwait(false);
        if (option == NbdConstants.OptGo) Enter(export, request.Name);
        return true;
    }

    private static byte[] InfoString(ushort type, string value)
    {
        byte[] text = NbdStrings.Encode(value);
        var payload = new byte[2 + text.Length];
        BinaryPrimitives.WriteUInt16BigEndian(payload, type);
        text.CopyTo(payload, 2);
        return payload;
    }

    private static byte[] BlockSizeInfo()
    {
        var payload = new byte[14];
        BinaryPrimitives.WriteUInt16BigEndian(payload, NbdConstants.InfoBlockSize);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(2), 1);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(6), NbdConstants.PreferredBlockSize);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(10), NbdConstants.MaxPayload);
        return payload;
    }

    private async Task MetaContextAsync(uint option, byte[] data, CancellationToken token)
    {
        bool set = option == NbdConstants.OptSetMetaContext;
        if (!NbdMetaContextRequest.TryRead(data, out var request))
        {
            await SendErrorAsync(option, NbdConstants.RepErrInvalid, "malformed meta context request", token).ConfigureAwait(false);
            return;
        }
        if (set && !_structured)
        {
            await SendErrorAsync(option, NbdConstants.RepErrInvalid, "structured replies must be negotiated first", token).ConfigureAwait(false);
            return;
        }
        if (_server.FindExport(request.ExportName) is null)
        {
            await SendErrorAsync(option, NbdConstants.RepErrUnknown, "no such export", token).ConfigureAwait(false);
            return;
        }
        bool match = set
            ? request.Queries.Contains(NbdConstants.BaseAllocation)
            : request.Queries.Length == 0 || request.Queries.Any(q => q is "base:" or NbdConstants.BaseAllocation);
        if (set)
        {
            _metaExport = request.ExportName;
            _baseAllocation = match;
        }
        if (match)
        {
            byte[] name = NbdStrings.Encode(NbdConstants.BaseAllocation);
            var payload = new byte[4 + name.Length];
            BinaryPrimitives.WriteUInt32BigEndian(payload, NbdConstants.BaseAllocationId);
            name.CopyTo(payload, 4);
            await SendOptionReplyAsync(option, NbdConstants.RepMetaContext, payload, token).ConfigureAwait(false);
        }
        await SendOptionReplyAsync(option, NbdConstants.RepAck, [], token).ConfigureAwait(false);
    }

    private Task SendErrorAsync(uint option, uint type, string message, CancellationToken token)
        => SendOptionReplyAsync(option, type, NbdStrings.Encode(message), token);

    private async Task SendOptionReplyAsync(uint option, uint type, byte[] payload, CancellationToken token)
    {
        var reply = new byte[20 + payload.Length];
        BinaryPrimitives.WriteUInt64BigEndian(reply, NbdConstants.OptionReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(8), option);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(12), type);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(16), (uint)payload.Length);
        payload.CopyTo(reply, 20);
        await SendAsync(reply, token).ConfigureAwait(false);
    }

    /// <summary>Sends bytes whole, one sender at a time.</summary>
    private async Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken token)
    {
        await _writeGate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            while (!data.IsEmpty)
            {
                int n = await _socket.SendAsync(data, SocketFlags.None, token).ConfigureAwait(false);
                data = data[n..];
            }
        }
        finally { _writeGate.Release(); }
    }
}

/// <summary>The client broke the protocol; the connection is dropped.</summary>
internal sealed class NbdProtocolException(string message) : Exception(message);
