using System.Text;

namespace Discemu.Cli.Output;

/// <summary>
/// Collects text and hands it to the real output in 64 KiB pieces, so listings of thousands of lines cost a
/// few writes instead of one flushed write per line (the console writer flushes every call).
/// </summary>
internal sealed class BufferedOutput(TextWriter inner) : TextWriter
{
    private const int FlushAt = 64 << 10;
    private readonly StringBuilder _text = new();

    /// <inheritdoc/>
    public override Encoding Encoding => inner.Encoding;

    /// <inheritdoc/>
    public override void Write(char value)
    {
        _text.Append(value);
        if (_text.Length >= FlushAt) Flush();
    }

    /// <inheritdoc/>
    public override void Write(string? value)
    {
        _text.Append(value);
        if (_text.Length >= FlushAt) Flush();
    }

    /// <inheritdoc/>
    public override void WriteLine(string? value)
    {
        _text.Append(value).Append(CoreNewLine);
        if (_text.Length >= FlushAt) Flush();
    }

    /// <inheritdoc/>
    public override void Flush()
    {
        if (_text.Length == 0) return;
        inner.Write(_text.ToString());
        _text.Clear();
        inner.Flush();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) Flush();
        base.Dispose(disposing);
    }
}
