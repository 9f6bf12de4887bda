using Discemu.Block;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Block;

public sealed class FileDeviceConformanceTests : DeviceConformanceTests
{
    protected override DeviceExpectations Expectations => SparseFiles.IfSupported(DeviceExpectations.All);
    protected override BlockDevice CreateDevice(TempDir dir, long length) => FileDevice.Create(dir.File("dev.img"), length);
    protected override BlockDevice? Reopen(TempDir dir, bool writable) => FileDevice.Open(dir.File("dev.img"), writable);
}
