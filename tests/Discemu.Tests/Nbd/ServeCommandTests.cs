using Discemu.Tests.Cli;

namespace Discemu.Tests.Nbd;

/// <summary><c>discemu serve</c> argument errors: one line on stderr, exit 1, nothing served.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public void NothingToServeIsAnError()
        => Assert.Contains("Nothing to serve", CliHarness.AssertOneLineError(CliHarness.Run("serve", "--port", "0")));

    [Fact]
    public void ExportWithoutNameIsAnError()
        => Assert.Contains("NAME=IMAGE", CliHarness.AssertOneLineError(CliHarness.Run("serve", "--port", "0", "--export", "disk.img")));

    [Fact]
    public void MissingImageIsAnError()
        => Assert.Contains("/nonexistent/x.qcow2", CliHarness.AssertOneLineError(CliHarness.Run("serve", "--port", "0", "/nonexistent/x.qcow2")));

    [Fact]
    public void DuplicateExportNamesAreAnError()
        => Assert.Contains("Two exports", CliHarness.AssertOneLineError(CliHarness.Run("serve", "--port", "0", "--memory", "1M", "--export", "memory=x.img")));
}
