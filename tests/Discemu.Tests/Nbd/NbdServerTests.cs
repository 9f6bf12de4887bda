using System.Buffers.Binary;
using System.Net;
using System.Text;
using Discemu.Block;
using Discemu.Nbd;

namespace Discemu.Tests.Nbd;

/// <summary>The server in-process against a raw socket client: protocol behaviour, errors and faults.</summary>
public sealed class NbdServerTests : IAsyncLifetime
{
    private const long Size = 64 << 20;
    private readonly MemoryDevice _ram = new(Size);
    private readonly MemoryDevice _roData = new(Size);
    private NbdServer _server = null!;
    private IPEndPoint _ep = null!;

    public ValueTask InitializeAsync()
    {
        _roData.Write(1 << 20, Enumerable.Repeat((byte)0xAB, 65536).ToArray());
        _server = new NbdServer([new NbdExport("ram", _ram, false, "scratch"), new NbdExport("ro", _roData, true)]);
        _ep = _server.ListenTcp(IPAddress.Loopback, 0);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _ram.Dispose();
        _roData.Dispose();
    }

    private static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void WriteThenReadRoundTripsAndHolesComeAsHoleChunks()
    {
        using var c = RawNbdClient.Open(_ep, "ram");
        Assert.Equal((ulong)Size, c.ExportSize);
        Assert.Equal(0, c.TransmissionFlags & NbdConstants.TxReadOnly);
        Assert.NotEqual(0, c.TransmissionFlags & NbdConstants.TxCanMultiConn);
        var data = Pattern(100_000, 1);
        Assert.Equal(0u, c.Write(300_000, data, flags: NbdConstants.CmdFlagFua));
        var (error, read, types) = c.Read(0, 1 << 20);
        Assert.Equal(0u, error);
        Assert.Equal(data, read.AsSpan(300_000, data.Length).ToArray());
        Assert.Contains(NbdConstants.ReplyTypeOffsetHole, types);
        Assert.Contains(NbdConstants.ReplyTypeOffsetData, types);
        // DF: one data chunk.
        (error, read, types) = c.Read(0, 1 << 20, cookie: 5, flags: NbdConstants.CmdFlagDf);
        Assert.Equal(0u, error);
        Assert.Equal([NbdConstants.ReplyTypeOffsetData], types);
        Assert.Equal(data, read.AsSpan(300_000, data.Length).ToArray());
        c.Disconnect();
    }

    [Fact]
    public void SimpleRepliesWithoutStructuredNegotiation()
    {
        using var c = RawNbdClient.Open(_ep, "ro", structured: false);
        Assert.NotEqual(0, c.TransmissionFlags & NbdConstants.TxReadOnly);
        var (error, read, _) = c.Read(1 << 20, 65536);
        Assert.Equal(0u, error);
        Assert.All(read, b => Assert.Equal(0xAB, b));
        // Block status needs a negotiated context.
        Assert.Equal(NbdConstants.EInval, c.Simple(NbdConstants.CmdBlockStatus, 0, 4096));
    }

    [Fact]
    public void BlockStatusReportsHolesAndData()
    {
        using var c = RawNbdClient.Open(_ep, "ro");
        c.SendRequest(NbdConstants.CmdBlockStatus, 0, (uint)Size, 7);
        var (flags, type, cookie, data) = c.ReadChunk();
        Assert.Equal(7UL, cookie);
        Assert.Equal(NbdConstants.ReplyTypeBlockStatus, type);
        Assert.Equal(NbdConstants.ReplyFlagDone, flags);
        Assert.Equal(NbdConstants.BaseAllocationId, BinaryPrimitives.ReadUInt32BigEndian(data));
        var descriptors = new List<(uint Length, uint Flags)>();
        for (int i = 4; i < data.Length; i += 8)
            descriptors.Add((BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(i)), BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(i + 4))));
        Assert.Equal([(1u << 20, 3u), (65536u, 0u), ((uint)Size - (1u << 20) - 65536, 3u)], descriptors);
        // REQ_ONE: a single descriptor.
        c.SendRequest(NbdConstants.CmdBlockStatus, 0, (uint)Size, 8, NbdConstants.CmdFlagReqOne);
        Assert.Equal(12, c.ReadChunk().Data.Length);
    }

    [Fact]
    public void ErrorsCarryTheRightErrno()
    {
        using (var ro = RawNbdClient.Open(_ep, "ro"))
        {
            Assert.Equal(NbdConstants.EPerm, ro.Write(0, new byte[512]));
            Assert.Equal(NbdConstants.EPerm, ro.Simple(NbdConstants.CmdTrim, 0, 4096));
            Assert.Equal(0u, ro.Simple(NbdConstants.CmdFlush, 0, 0));
        }
        using var c = RawNbdClient.Open(_ep, "ram");
        Assert.Equal(NbdConstants.EInval, c.Read((ulong)Size - 10, 20).Error);
        Assert.Equal(NbdConstants.EInval, c.Read(ulong.MaxValue - 5, 20).Error);
        Assert.Equal(NbdConstants.ENoSpc, c.Write((ulong)Size - 10, new byte[20]));
        Assert.Equal(NbdConstants.EOverflow, c.Read(0, 33 << 20).Error);
        Assert.Equal(NbdConstants.EInval, c.Simple(42, 0, 0));
        Assert.Equal(NbdConstants.EInval, c.Simple(NbdConstants.CmdFlush, 0, 0, flags: 0x8000));
        // The connection still works afterwards.
        Assert.Equal(0u, c.Write(0, new byte[] { 1, 2, 3 }));
        Assert.Equal(new byte[] { 1, 2, 3 }, c.Read(0, 3).Data);
    }

    [Fact]
    public void WriteZeroesTrimAndCache()
    {
        using var c = RawNbdClient.Open(_ep, "ram");
        Assert.Equal(0u, c.Write(2 << 20, Pattern(200_000, 2)));
        Assert.Equal(0u, c.Simple(NbdConstants.CmdWriteZeroes, 2 << 20, 65536, flags: NbdConstants.CmdFlagFastZero | NbdConstants.CmdFlagNoHole));
        Assert.Equal(0u, c.Simple(NbdConstants.CmdWriteZeroes, (2 << 20) + 65536, 1000, flags: NbdConstants.CmdFlagFua));
        Assert.Equal(0u, c.Simple(NbdConstants.CmdTrim, (2 << 20) + 131072, 65536));
        Assert.Equal(0u, c.Simple(NbdConstants.CmdCache, 0, 1 << 20));
        var read = c.Read(2 << 20, 66536).Data;
        Assert.All(read, b => Assert.Equal(0, b));
    }

    [Fact]
    public void OptionsListInfoAndUnknownExport()
    {
        using var c = RawNbdClient.Connect(_ep);
        c.Send(RawNbdClient.U32(3));
        c.SendOption(NbdConstants.OptList, []);
        var names = new List<string>();
        while (c.ReadOptionReply(NbdConstants.OptList) is var (type, data) && type == NbdConstants.RepServer)
            names.Add(Encoding.UTF8.GetString(data, 4, (int)BinaryPrimitives.ReadUInt32BigEndian(data)));
        Assert.Equal(["ram", "ro"], names.Order());
        byte[] info = [.. RawNbdClient.U32(3), .. "ram"u8.ToArray(), 0, 2, 0, 3, 0, 2];
        c.SendOption(NbdConstants.OptInfo, info);
        var types = new List<ushort>();
        while (c.ReadOptionReply(NbdConstants.OptInfo) is var (type, data) && type == NbdConstants.RepInfo)
            types.Add(BinaryPrimitives.ReadUInt16BigEndian(data));
        Assert.Equal([NbdConstants.InfoExport, NbdConstants.InfoBlockSize, NbdConstants.InfoDescription], types);
        c.SendOption(NbdConstants.OptGo, [.. RawNbdClient.U32(4), .. "nope"u8.ToArray(), 0, 0]);
        Assert.Equal(NbdConstants.RepErrUnknown, c.ReadOptionReply(NbdConstants.OptGo).Type);
        c.SendOption(NbdConstants.OptInfo, [1, 2, 3]);
        Assert.Equal(NbdConstants.RepErrInvalid, c.ReadOptionReply(NbdConstants.OptInfo).Type);
        c.SendOption(NbdConstants.OptStartTls, []);
        Assert.Equal(NbdConstants.RepErrUnsup, c.ReadOptionReply(NbdConstants.OptStartTls).Type);
        c.SendOption(NbdConstants.OptListMetaContext, RawNbdClient.MetaRequest("ram"));
        Assert.Equal(NbdConstants.RepMetaContext, c.ReadOptionReply(NbdConstants.OptListMetaContext).Type);
        Assert.Equal(NbdConstants.RepAck, c.ReadOptionReply(NbdConstants.OptListMetaContext).Type);
        c.SendOption(NbdConstants.OptSetMetaContext, RawNbdClient.MetaRequest("ram", "base:allocation"));
        Assert.Equal(NbdConstants.RepErrInvalid, c.ReadOptionReply(NbdConstants.OptSetMetaContext).Type);
        c.SendOption(NbdConstants.OptAbort, []);
        Assert.Equal(NbdConstants.RepAck, c.ReadOptionReply(NbdConstants.OptAbort).Type);
        Assert.True(c.ServerClosed());
    }

    [Fact]
    public void ExportNameOptionEntersTransmission()
    {
        using var c = RawNbdClient.Connect(_ep);
        c.Send(RawNbdClient.U32(1));
        c.SendOption(NbdConstants.OptExportName, "ro"u8.ToArray());
        var reply = c.Receive(134);
        Assert.Equal((ulong)Size, BinaryPrimitives.ReadUInt64BigEndian(reply));
        Assert.All(reply[10..], b => Assert.Equal(0, b));
        c.SendRequest(NbdConstants.CmdRead, 1 << 20, 16, 9);
        Assert.Equal((0u, 9UL), c.ReadSimpleReply());
        Assert.All(c.Receive(16), b => Assert.Equal(0xAB, b));
    }

    public static TheoryData<string, byte[]> Garbage => new()
    {
        { "bad client flags", [0xff, 0xff, 0xff, 0xff] },
        { "bad option magic", [0, 0, 0, 1, .. "NOTMAGIC"u8.ToArray(), 0, 0, 0, 7, 0, 0, 0, 0] },
        { "huge option", [0, 0, 0, 1, .. BitConverter.GetBytes(RawNbdClient.IHaveOpt).Reverse(), 0, 0, 0, 7, 0x7f, 0xff, 0xff, 0xff] },
        { "unknown export by EXPORT_NAME", [0, 0, 0, 1, .. BitConverter.GetBytes(RawNbdClient.IHaveOpt).Reverse(), 0, 0, 0, 1, 0, 0, 0, 1, (byte)'x'] },
        { "truncated option", [0, 0, 0, 1, .. BitConverter.GetBytes(RawNbdClient.IHaveOpt).Reverse(), 0, 0, 0, 7, 0, 0, 1, 0, 1, 2] },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public void MalformedHandshakeIsDroppedAndOthersKeepWorking(string what, byte[] bytes)
    {
        using var good = RawNbdClient.Open(_ep, "ram");
        using (var bad = RawNbdClient.Connect(_ep))
        {
            bad.Send(bytes);
            if (what == "truncated option") bad.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            Assert.True(bad.ServerClosed(), what);
        }
        Assert.Equal(0u, good.Write(4096, [9, 9]));
        Assert.Equal(new byte[] { 9, 9 }, good.Read(4096, 2).Data);
    }

    [Fact]
    public void GarbageRequestsAndTruncatedWritesDropOnlyThatClient()
    {
        using var good = RawNbdClient.Open(_ep, "ram");
        using (var bad = RawNbdClient.Open(_ep, "ram"))
        {
            bad.Send(Pattern(28, 3));
            Assert.True(bad.ServerClosed());
        }
        using (var bad = RawNbdClient.Open(_ep, "ram"))
        {
            bad.SendRequest(NbdConstants.CmdWrite, 0, 1 << 30, 1);
            Assert.True(bad.ServerClosed());
        }
        using (var bad = RawNbdClient.Open(_ep, "ram"))
        {
            // Half a write, then the client vanishes: nothing is written, nothing acknowledged.
            var h = new byte[28];
            new NbdRequest(0, NbdConstants.CmdWrite, 1, 5 << 20, 65536).Write(h);
            bad.Send([.. h, .. Enumerable.Repeat((byte)0xEE, 1000)]);
            bad.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            Assert.True(bad.ServerClosed());
        }
        using (var bad = RawNbdClient.Open(_ep, "ram"))
        {
            bad.Send(new byte[10]);
        }
        Assert.All(good.Read(5 << 20, 65536).Data, b => Assert.Equal(0, b));
        Assert.Equal(0u, good.Write(0, [5]));
    }

    [Fact]
    public async Task SixtyFourClientsWithRequestsInFlight()
    {
        const int Clients = 64, Blocks = 8, BlockSize = 8192;
        var tasks = Enumerable.Range(0, Clients).Select(i => Task.Run(() =>
        {
            using var c = RawNbdClient.Open(_ep, "ram");
            // Pipeline every write, then collect the replies in whatever order they come.
            var expected = new Dictionary<ulong, byte[]>();
            for (int b = 0; b < Blocks; b++)
            {
                var data = Pattern(BlockSize, i * 100 + b);
                ulong cookie = (ulong)(b + 1);
                expected[cookie] = data;
                c.SendRequest(NbdConstants.CmdWrite, (ulong)((i * Blocks + b) * BlockSize), BlockSize, cookie, 0, data);
            }
            var seen = new HashSet<ulong>();
            for (int b = 0; b < Blocks; b++)
            {
                var (error, cookie) = c.ReadSimpleReply();
                Assert.Equal(0u, error);
                Assert.True(seen.Add(cookie));
            }
            Assert.Equal(0u, c.Simple(NbdConstants.CmdFlush, 0, 0, cookie: 100));
            var (err, read, _) = c.Read((ulong)(i * Blocks * BlockSize), Blocks * BlockSize, cookie: 101);
            Assert.Equal(0u, err);
            for (int b = 0; b < Blocks; b++)
                Assert.Equal(expected[(ulong)(b + 1)], read.AsSpan(b * BlockSize, BlockSize).ToArray());
            c.Disconnect();
        }, TestContext.Current.CancellationToken)).ToArray();
        await Task.WhenAll(tasks);
        var all = new byte[Clients * Blocks * BlockSize];
        _ram.Read(0, all);
        for (int i = 0; i < Clients; i++)
            for (int b = 0; b < Blocks; b++)
                Assert.Equal(Pattern(BlockSize, i * 100 + b), all.AsSpan((i * Blocks + b) * BlockSize, BlockSize).ToArray());
    }

    [Fact]
    public async Task StopFinishesInFlightRequestsAndClosesClients()
    {
        var ram = new MemoryDevice(1 << 20);
        var server = new NbdServer([new NbdExport("", ram, false)]);
        var ep = server.ListenTcp(IPAddress.Loopback, 0);
        using var c = RawNbdClient.Open(ep);
        for (int i = 0; i < 16; i++) c.SendRequest(NbdConstants.CmdWrite, (ulong)(i * 4096), 4096, (ulong)i, 0, Pattern(4096, i));
        for (int i = 0; i < 16; i++) Assert.Equal(0u, c.ReadSimpleReply().Error);
        await server.StopAsync();
        Assert.True(c.ServerClosed());
        for (int i = 0; i < 16; i++)
        {
            var got = new byte[4096];
            ram.Read(i * 4096, got);
            Assert.Equal(Pattern(4096, i), got);
        }
        Assert.Equal(0, server.ConnectionCount);
    }
}
