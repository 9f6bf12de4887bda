namespace Discemu.Tests.Infrastructure;

/// <summary>
/// Locates ../shared/testdata/real (images made by other tools; see its README). Tests that use it
/// fail when it is missing under CI and skip with a reason otherwise. Files there are read-only:
/// copy one into a <see cref="TempDir"/> before opening it for writing.
/// </summary>
public static class TestData
{
    private static readonly Lazy<string?> RealDir = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "testdata", "real");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    });

    /// <summary>The path of a real test image, or fails/skips the test when the folder is absent.</summary>
    public static string Real(string name)
    {
        var dir = RealDir.Value;
        if (dir is null)
        {
            const string reason = "../shared/testdata/real is not present.";
            if (PeerTools.InCi) Assert.Fail(reason);
            Assert.Skip(reason);
        }
        var path = Path.Combine(dir!, name);
        if (!File.Exists(path)) Assert.Fail($"Test image {path} is missing.");
        return path;
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    /// <summary>Creates a fresh folder under the system temp directory.</summary>
    public TempDir()
    {
        PathName = Path.Combine(Path.GetTempPath(), "discemu-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(PathName);
    }

    /// <summary>The folder.</summary>
    public string PathName { get; }

    /// <summary>A path inside the folder.</summary>
    public string File(string name) => Path.Combine(PathName, name);

    /// <inheritdoc/>
    public void Dispose()
    {
        try { Directory.Delete(PathName, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
