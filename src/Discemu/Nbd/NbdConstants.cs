namespace Discemu.Nbd;

/// <summary>Magic numbers, option, reply, command and flag values of the NBD protocol (doc/proto.md).</summary>
internal static class NbdConstants
{
    /// <summary>"NBDMAGIC": first 8 bytes the server sends.</summary>
    public const ulong InitMagic = 0x4e42444d41474943;
    /// <summary>"IHAVEOPT": newstyle marker, and the magic in front of every client option.</summary>
    public const ulong OptionMagic = 0x49484156454F5054;
    /// <summary>Magic in front of every option reply.</summary>
    public const ulong OptionReplyMagic = 0x3e889045565a9;
    /// <summary>Magic of a transmission request.</summary>
    public const uint RequestMagic = 0x25609513;
    /// <summary>Magic of a simple reply.</summary>
    public const uint SimpleReplyMagic = 0x67446698;
    /// <summary>Magic of a structured reply chunk.</summary>
    public const uint StructuredReplyMagic = 0x668e33ef;

    // Handshake flags (server) and client flags.
    public const ushort FlagFixedNewstyle = 1;
    public const ushort FlagNoZeroes = 2;
    public const uint ClientFlagFixedNewstyle = 1;
    public const uint ClientFlagNoZeroes = 2;

    // Options.
    public const uint OptExportName = 1;
    public const uint OptAbort = 2;
    public const uint OptList = 3;
    public const uint OptStartTls = 5;
    public const uint OptInfo = 6;
    public const uint OptGo = 7;
    public const uint OptStructuredReply = 8;
    public const uint OptListMetaContext = 9;
    public const uint OptSetMetaContext = 10;

    // Option reply types.
    public const uint RepAck = 1;
    public const uint RepServer = 2;
    public const uint RepInfo = 3;
    public const uint RepMetaContext = 4;
    public const uint RepErrUnsup = 0x80000001;
    public const uint RepErrPolicy = 0x80000002;
    public const uint RepErrInvalid = 0x80000003;
    public const uint RepErrPlatform = 0x80000004;
    public const uint RepErrTlsReqd = 0x80000005;
    public const uint RepErrUnknown = 0x80000006;
    public const uint RepErrShutdown = 0x80000007;
    public const uint RepErrTooBig = 0x80000009;

    // Info types.
    public const ushort InfoExport = 0;
    public const ushort InfoName = 1;
    public const ushort InfoDescription = 2;
    public const ushort InfoBlockSize = 3;

    // Transmission flags.
    public const ushort TxHasFlags = 1 << 0;
    public const ushort TxReadOnly = 1 << 1;
    public const ushort TxSendFlush = 1 << 2;
    public const ushort TxSendFua = 1 << 3;
    public const ushort TxSendTrim = 1 << 5;
    public const ushort TxSendWriteZeroes = 1 << 6;
    public const ushort TxSendDf = 1 << 7;
    public const ushort TxCanMultiConn = 1 << 8;
    public const ushort TxSendCache = 1 << 10;
    public const ushort TxSendFastZero = 1 << 11;

    // Command flags.
    public const ushort CmdFlagFua = 1 << 0;
    public const ushort CmdFlagNoHole = 1 << 1;
    public const ushort CmdFlagDf = 1 << 2;
    public const ushort CmdFlagReqOne = 1 << 3;
    public const ushort CmdFlagFastZero = 1 << 4;

    // Commands.
    public const ushort CmdRead = 0;
    public const ushort CmdWrite = 1;
    public const ushort CmdDisc = 2;
    public const ushort CmdFlush = 3;
    public const ushort CmdTrim = 4;
    public const ushort CmdCache = 5;
    public const ushort CmdWriteZeroes = 6;
    public const ushort CmdBlockStatus = 7;

    // Structured reply flags and chunk types.
    public const ushort ReplyFlagDone = 1;
    public const ushort ReplyTypeNone = 0;
    public const ushort ReplyTypeOffsetData = 1;
    public const ushort ReplyTypeOffsetHole = 2;
    public const ushort ReplyTypeBlockStatus = 5;
    public const ushort ReplyTypeError = 0x8001;

    // base:allocation flags.
    public const uint StateHole = 1;
    public const uint StateZero = 2;

    /// <summary>The one metadata context served, and its id.</summary>
    public const string BaseAllocation = "base:allocation";
    public const uint BaseAllocationId = 1;

    // Error values (as on the wire).
    public const uint EPerm = 1;
    public const uint EIo = 5;
    public const uint ENoMem = 12;
    public const uint EInval = 22;
    public const uint ENoSpc = 28;
    public const uint EOverflow = 75;
    public const uint ENotSup = 95;
    public const uint EShutdown = 108;

    /// <summary>Largest option payload accepted during the handshake.</summary>
    public const int MaxOptionLength = 64 * 1024;
    /// <summary>Largest read or write payload (also announced as the maximum block size).</summary>
    public const int MaxPayload = 32 * 1024 * 1024;
    /// <summary>Preferred block size announced to clients.</summary>
    public const int PreferredBlockSize = 4096;
    /// <summary>Maximum length of a string (name, query) in an option.</summary>
    public const int MaxStringLength = 4096;
    /// <summary>Size of a request header.</summary>
    public const int RequestSize = 28;
}
