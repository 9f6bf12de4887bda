using System.Text;
using Discemu.Block;
using Discemu.Formats;

namespace Discemu.Tests.Formats;

/// <summary>
/// A tiny test-only format for opener tests: 8 magic bytes, a NUL-terminated backing file name at
/// offset 8, a NUL-terminated backing format name at offset 264, and the virtual disk from offset 512.
/// </summary>
internal sealed class FakeFormat : ImageFormat
{
    private static readonly byte[] Magic = "DSCFAKE1"u8.ToArray();
    private const int BackingFormatOffset = 264;
    private const int DataOffset = 512;

    public static FakeFormat Instance { get; } = new();

    public override string Name => "fake";
    public override string Description => "Test format with a backing file reference";
    public override IReadOnlyList<string> Extensions => ["fake"];
    public override bool SupportsBacking => true;

    public override int Probe(ReadOnlySpan<byte> header, long fileLength) => header.StartsWith(Magic) ? 100 : 0;

    /// <summary>Writes an image file.</summary>
    public static void Make(string path, byte[] contents, string? backing = null, string? backingFormat = null)
    {
        var file = new byte[DataOffset + contents.Length];
        Magic.CopyTo(file, 0);
        if (backing is not null) Encoding.UTF8.GetBytes(backing).CopyTo(file, 8);
        if (backingFormat is not null) Encoding.UTF8.GetBytes(backingFormat).CopyTo(file, BackingFormatOffset);
        contents.CopyTo(file, DataOffset);
        File.WriteAllBytes(path, file);
    }

    private static string? CString(byte[] file, int offset)
    {
        int end = Array.IndexOf(file, (byte)0, offset);
        return end == offset ? null : Encoding.UTF8.GetString(file, offset, end - offset);
    }

    public override DiskImage Open(ImageOpenRequest request)
    {
        var file = File.ReadAllBytes(request.Path);
        if (!file.AsSpan().StartsWith(Magic) || file.Length < DataOffset) throw new CorruptImageException("Not a fake image.", request.Path);
        string? backing = CString(file, 8);
        string? backingFormat = CString(file, BackingFormatOffset);
        DiskImage? opened = backing is not null && request.OpenBacking ? request.Opener.OpenBacking(request, backing, backingFormat) : null;
        return new FakeImage(request.Path, file.AsSpan(DataOffset), backing, backingFormat, opened);
    }

    private sealed class FakeImage(string path, ReadOnlySpan<byte> data, string? backingName, string? backingFormat, DiskImage? backing) : DiskImage
    {
        private readonly MemoryDevice _data = new(data);

        public override ImageFormat Format => Instance;
        public override string Path => path;
        public override DiskImage? Backing => backing;
        public override string? BackingFileName => backingName;
        public override string? BackingFormatName => backingFormat;
        public override long Length => _data.Length;
        public override DeviceCapabilities Capabilities => DeviceCapabilities.None;
        protected override void ReadCore(long offset, Span<byte> buffer) => _data.Read(offset, buffer);

        protected override void Dispose(bool disposing)
        {
            if (!disposing) return;
            _data.Dispose();
            backing?.Dispose();
        }
    }
}
