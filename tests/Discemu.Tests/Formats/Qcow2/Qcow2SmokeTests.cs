using Discemu.Tests.Infrastructure;
using static Discemu.Tests.Formats.Qcow2.Qcow2TestKit;

namespace Discemu.Tests.Formats.Qcow2;

public sealed class Qcow2SmokeTests
{
    [Fact]
    public void CreateWriteReadCheck()
    {
        using var dir = new TempDir();
        var path = dir.File("a.qcow2");
        var data = Pattern(3 << 20, 1);
        using (var img = Create(path, 4 << 20))
        {
            img.Write(1000, data);
            var back = new byte[data.Length];
            img.Read(1000, back);
            AssertSameBytes(data, back, "read back");
        }
        AssertCheckClean(path);
        var raw = QemuRaw(dir, path);
        AssertSameBytes(data, raw.AsSpan(1000, data.Length).ToArray(), "qemu view");
    }
}
