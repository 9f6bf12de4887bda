using Discemu.Block;
using Discemu.Formats;

namespace Discemu.Cli.Commands;

/// <summary>qemu's snapshot parameter (<c>convert -l</c>, <c>serve -l</c>): which internal snapshot to read.</summary>
internal static class SnapshotParameter
{
    /// <summary>The snapshot id or name that <paramref name="param"/> names (<c>snapshot.id=ID,snapshot.name=NAME</c>, or a bare id or name).</summary>
    /// <exception cref="BadArgumentException">The parameter is malformed or names nothing.</exception>
    public static string? Parse(string? param)
    {
        if (param is null || !param.StartsWith("snapshot.", StringComparison.Ordinal)) return param;
        string? id = null, name = null;
        foreach (var part in param.Split(','))
        {
            int eq = part.IndexOf('=');
            string key = eq < 0 ? part : part[..eq], value = eq < 0 ? "" : part[(eq + 1)..];
            if (key == "snapshot.id") id = value;
            else if (key == "snapshot.name") name = value;
            else throw new BadArgumentException($"Invalid snapshot parameter '{part}' (expected snapshot.id=ID,snapshot.name=NAME).");
        }
        return (id is { Length: > 0 } ? id : name) is { Length: > 0 } chosen ? chosen : throw new BadArgumentException("The snapshot parameter names no snapshot.");
    }

    /// <summary>A read-only view of <paramref name="image"/>'s snapshot <paramref name="idOrName"/>.</summary>
    /// <exception cref="UnsupportedFeatureException">The format has no internal snapshots.</exception>
    /// <exception cref="BadArgumentException">No snapshot has that id or name.</exception>
    public static BlockDevice Open(DiskImage image, string idOrName)
        => image is ISnapshotImage snaps
            ? snaps.OpenSnapshot(idOrName)
            : throw new UnsupportedFeatureException($"The {image.Format.Name} format has no internal snapshots.", image.Path);
}
