using Discemu.Block;
using Discemu.Tests.Conformance;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Block;

public sealed class MemoryDeviceConformanceTests : DeviceConformanceTests
{
    protected override DeviceExpectations Expectations => DeviceExpectations.All;
    protected override int Granularity => 65536;
    protected override IEnumerable<long> Boundaries(long length) => [65536 * 3, 65536 * 17];
    protected override BlockDevice CreateDevice(TempDir dir, long length) => new MemoryDevice(length);
}
