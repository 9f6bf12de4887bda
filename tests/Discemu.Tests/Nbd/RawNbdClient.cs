using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Discemu.Nbd;

namespace Discemu.Tests.Nbd;

/// <summary>A deliberately small NBD client over a raw socket, written for these tests from proto.md.</summary>
internal sealed class RawNbdClient : IDisposable
{
    public const ulong IHaveOpt = 0x49484156454F5054;
    public const ulong OptReplyMagic = 0x3e889045565a9;

    public Socket Socket { get; }
    public ulong ExportSize { get; private set; }
    public ushort TransmissionFlags { get; private set; }
    public bool Structured { get; private set; }

    private RawNbdClient(Socket socket)
    {
        Socket = socket;
        Socket.ReceiveTimeout = 20000;
        Socket.SendTimeout = 20000;
    }

    /// <summary>Connects and reads the server greeting (18 bytes), checking the magics.</summary>
    public static RawNbdClient Connect(IPEndPoint ep)
    {
        var s = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        s.Connect(ep);
        var c = new RawNbdClient(s);
        var hello = c.Receive(18);
        Assert.Equal(0x4e42444d41474943UL, BinaryPrimitives.ReadUInt64BigEndian(hello));
        Assert.Equal(IHaveOpt, BinaryPrimitives.ReadUInt64BigEndian(hello.AsSpan(8)));
        return c;
    }

    /// <summary>Connects and negotiates: client flags, optional structured replies + base:allocation, then GO.</summary>
    public static RawNbdClient Open(IPEndPoint ep, string export = "", bool structured = true)
    {
        var c = Connect(ep);
        c.Send(U32(3));
        if (structured)
        {
            c.SendOption(8, []);
            Assert.Equal(1u, c.ReadOptionReply(8).Type);
            c.SendOption(10, MetaRequest(export, "base:allocation"));
            Assert.Equal(4u, c.ReadOptionReply(10).Type);
            Assert.Equal(1u, c.ReadOptionReply(10).Type);
            c.Structured = true;
        }
        var name = Encoding.UTF8.GetBytes(export);
        c.SendOption(7, [.. U32((uint)name.Length), .. name, 0, 0]);
        while (true)
        {
            var (type, data) = c.ReadOptionReply(7);
            if (type == 1) break;
            Assert.Equal(3u, type);
            if (BinaryPrimitives.ReadUInt16BigEndian(data) == 0)
            {
                c.ExportSize = BinaryPrimitives.ReadUInt64BigEndian(data.AsSpan(2));
                c.TransmissionFlags = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(10));
            }
        }
        return c;
    }

    public static byte[] MetaRequest(string export, params string[] queries)
    {
        var name = Encoding.UTF8.GetBytes(export);
        var list = new List<byte>([.. U32((uint)name.Length), .. name, .. U32((uint)queries.Length)]);
        foreach (var q in queries)
        {
            var b = Encoding.UTF8.GetBytes(q);
            list.AddRange(U32((uint)b.Length));
            list.AddRange(b);
        }
        return [.. list];
    }

    public static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return b;
    }

    public void SendOption(uint option, byte[] data)
    {
        var h = new byte[16];
        new NbdOptionHeader(option, (uint)data.Length).Write(h);
        Send([.. h, .. data]);
    }

    public (uint Type, byte[] Data) ReadOptionReply(uint option)
    {
        var h = Receive(20);
        Assert.Equal(OptReplyMagic, BinaryPrimitives.ReadUInt64BigEndian(h));
        Assert.Equal(option, BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(8)));
        return (BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(12)), Receive((int)BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(16))));
    }

    public void SendRequest(ushort type, ulong offset, uint length, ulong cookie, ushort flags = 0, byte[]? payload = null)
    {
        var h = new byte[28];
        new NbdRequest(flags, type, cookie, offset, length).Write(h);
        Send(payload is null ? h : [.. h, .. payload]);
    }

    /// <summary>Reads one simple reply; returns (error, cookie).</summary>
    public (uint Error, ulong Cookie) ReadSimpleReply()
    {
        var h = Receive(16);
        Assert.Equal(0x67446698u, BinaryPrimitives.ReadUInt32BigEndian(h));
        return (BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(4)), BinaryPrimitives.ReadUInt64BigEndian(h.AsSpan(8)));
    }

    /// <summary>One structured chunk: flags, type, cookie, payload.</summary>
    public (ushort Flags, ushort Type, ulong Cookie, byte[] Data) ReadChunk()
    {
        var h = Receive(20);
        Assert.Equal(0x668e33efu, BinaryPrimitives.ReadUInt32BigEndian(h));
        return (BinaryPrimitives.ReadUInt16BigEndian(h.AsSpan(4)), BinaryPrimitives.ReadUInt16BigEndian(h.AsSpan(6)),
            BinaryPrimitives.ReadUInt64BigEndian(h.AsSpan(8)), Receive((int)BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(16))));
    }

    /// <summary>Reads [offset, offset+length) with structured replies, assembling data and hole chunks; returns (error, bytes, chunk types).</summary>
    public (uint Error, byte[] Data, List<ushort> Types) Read(ulong offset, int length, ulong cookie = 1, ushort flags = 0)
    {
        SendRequest(0, offset, (uint)length, cookie, flags);
        var data = new byte[length];
        var types = new List<ushort>();
        if (!Structured)
        {
            var (error, c) = ReadSimpleReply();
            Assert.Equal(cookie, c);
            if (error == 0) Receive(length).CopyTo(data, 0);
            return (error, data, types);
        }
        while (true)
        {
            var (f, type, c, payload) = ReadChunk();
            Assert.Equal(cookie, c);
            types.Add(type);
            if (type == 0x8001) return (BinaryPrimitives.ReadUInt32BigEndian(payload), data, types);
            if (type is 1 or 2)
            {
                long at = (long)(BinaryPrimitives.ReadUInt64BigEndian(payload) - offset);
                if (type == 1) payload.AsSpan(8).CopyTo(data.AsSpan((int)at));
                else Array.Clear(data, (int)at, (int)BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(8)));
            }
            if ((f & 1) != 0) return (0, data, types);
        }
    }

    public uint Write(ulong offset, byte[] data, ulong cookie = 2, ushort flags = 0)
    {
        SendRequest(1, offset, (uint)data.Length, cookie, flags, data);
        var (error, c) = ReadSimpleReply();
        Assert.Equal(cookie, c);
        return error;
    }

    public uint Simple(ushort type, ulong offset, uint length, ulong cookie = 3, ushort flags = 0)
    {
        SendRequest(type, offset, length, cookie, flags);
        var (error, c) = ReadSimpleReply();
        Assert.Equal(cookie, c);
        return error;
    }

    public void Send(byte[] data) => Socket.Send(data);

    public byte[] Receive(int count)
    {
        var buf = new byte[count];
        int got = 0;
        while (got < count)
        {
            int n = Socket.Receive(buf, got, count - got, SocketFlags.None);
            if (n == 0) throw new EndOfStreamException($"server closed after {got} of {count} bytes");
            got += n;
        }
        return buf;
    }

    /// <summary>True when the server has closed the connection (reads EOF within the timeout).</summary>
    public bool ServerClosed()
    {
        try
        {
            var buf = new byte[256];
            while (true)
            {
                int n = Socket.Receive(buf);
                if (n == 0) return true;
            }
        }
        catch (SocketException e) { return e.SocketErrorCode != SocketError.TimedOut; }
    }

    public void Disconnect()
    {
        try { SendRequest(2, 0, 0, 99); } catch (SocketException) { }
    }

    public void Dispose() => Socket.Dispose();
}
