using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Discemu.Nbd;

/// <summary>
/// An NBD server (fixed newstyle handshake, simple and structured replies, base:allocation) over
/// TCP and Unix sockets, serving several <see cref="NbdExport"/>s to many clients at once.
/// </summary>
/// <remarks>
/// Each connection has one reader that parses requests and hands them to the thread pool; replies
/// go out through one writer per connection, each reply whole. A client that breaks the protocol is
/// dropped without disturbing the others. <see cref="StopAsync"/> stops accepting, lets every
/// request already received finish and reply, and flushes the writable exports.
/// </remarks>
public sealed class NbdServer : IAsyncDisposable
{
    private readonly Dictionary<string, NbdExport> _exports;
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly List<string> _unixPaths = [];
    private readonly ConcurrentDictionary<NbdConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private int _stopped;

    /// <summary>Creates a server for <paramref name="exports"/>; call a Listen method to start serving.</summary>
    /// <exception cref="ArgumentException">There are no exports or two share a name.</exception>
    public NbdServer(IEnumerable<NbdExport> exports)
    {
        ArgumentNullException.ThrowIfNull(exports);
        _exports = new Dictionary<string, NbdExport>(StringComparer.Ordinal);
        foreach (var e in exports)
            if (!_exports.TryAdd(e.Name, e)) throw new ArgumentException($"Two exports are named '{e.Name}'.", nameof(exports));
        if (_exports.Count == 0) throw new ArgumentException("At least one export is needed.", nameof(exports));
    }

    /// <summary>The exports by name.</summary>
    public IReadOnlyCollection<NbdExport> Exports => _exports.Values;

    /// <summary>Receives one line per notable event (client dropped, protocol error); null for silence.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Most requests one connection may have in progress at once.</summary>
    public int MaxInFlightPerConnection { get; init; } = 64;

    /// <summary>How long a client may take to finish the handshake.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Number of connections currently open.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Starts listening on TCP; returns the bound end point (port 0 picks a free port).</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public IPEndPoint ListenTcp(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(128);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        Start(socket);
        return (IPEndPoint)socket.LocalEndPoint!;
    }

    /// <summary>Starts listening on a Unix socket at <paramref name="path"/> (a stale socket file there is replaced).</summary>
    /// <exception cref="IOException">A non-socket file exists at the path.</exception>
    /// <exception cref="SocketException">The path cannot be bound.</exception>
    public void ListenUnix(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path))
        {
            if (new FileInfo(path).Length > 0)
                throw new IOException($"'{path}' exists and is not a socket.");
            File.Delete(path);
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(128);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        lock (_unixPaths) _unixPaths.Add(path);
        Start(socket);
    }

    private void Start(Socket listener)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _stopped) != 0, this);
        lock (_listeners)
        {
            _listeners.Add(listener);
            _acceptLoops.Add(Task.Run(() => AcceptLoop(listener)));
        }
    }

    private async Task AcceptLoop(Socket listener)
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptAsync(token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                if (token.IsCancellationRequested) return;
                Log?.Invoke($"accept failed: {e.Message}");
                await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            if (client.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) client.NoDelay = true;
            var connection = new NbdConnection(this, client);
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _connections[connection] = tcs.Task;
            _ = Task.Run(async () =>
            {
                try { await connection.RunAsync(token).ConfigureAwait(false); }
                catch (Exception e) { Log?.Invoke($"connection failed: {e.Message}"); }
                finally
                {
                    _connections.TryRemove(connection, out _);
                    tcs.TrySetResult();
                }
            }, CancellationToken.None);
        }
    }

    /// <summary>Finds an export; the empty name means the only export when there is exactly one.</summary>
    internal NbdExport? FindExport(string name)
    {
        if (_exports.TryGetValue(name, out var export)) return export;
        return name.Length == 0 && _exports.Count == 1 ? _exports.Values.First() : null;
    }

    /// <summary>Stops accepting, waits for the requests already received to finish, and flushes the exports.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] loops;
        lock (_listeners)
        {
            foreach (var l in _listeners) l.Dispose();
            loops = [.. _acceptLoops];
        }
        await Task.WhenAll(loops).ConfigureAwait(false);
        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
        foreach (var export in _exports.Values)
        {
            try { export.Flush(); }
            catch (Exception e) { Log?.Invoke($"flush of export '{export.Name}' failed: {e.Message}"); }
        }
        lock (_unixPaths)
            foreach (var p in _unixPaths)
                try { File.Delete(p); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <inheritdoc cref="StopAsync"/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
