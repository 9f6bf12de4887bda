using System.CommandLine;
using Discemu.FileSystems;

namespace Discemu.Cli.Commands;

/// <summary>Shared by the editing commands: opening an image's file system writable.</summary>
internal static class FsEdit
{
    /// <summary>Opens <paramref name="arg"/>'s image and file system for editing.</summary>
    /// <exception cref="UnsupportedFeatureException">The file system type cannot be written.</exception>
    public static (OpenedFileSystem Opened, IWritableFileSystem Fs) OpenWritable(CliContext ctx, ParseResult parse, FsCommon common, ImagePathArgument arg)
    {
        var opened = common.Open(ctx, parse, arg, writable: true);
        if (opened.FileSystem is IWritableFileSystem w) return (opened, w);
        var type = opened.FileSystem.Type.Name;
        opened.Dispose();
        throw new UnsupportedFeatureException($"The {type} file system cannot be edited.", arg.Image);
    }

    /// <summary>
    /// Opens the one image and file system every target names writable, runs <paramref name="edit"/> on each inner
    /// path in turn (with the read view and the writable interface), and flushes, after a failure too, so what was
    /// done before it is kept consistent.
    /// </summary>
    /// <exception cref="BadArgumentException">The targets name no path or different images.</exception>
    /// <exception cref="UnsupportedFeatureException">The file system type cannot be written.</exception>
    public static void EditEach(CliContext ctx, ParseResult parse, FsCommon common, IEnumerable<string> targets, Action<FileSystem, IWritableFileSystem, string> edit)
    {
        var (first, paths) = SameImage(targets);
        var (opened, fs) = OpenWritable(ctx, parse, common, first);
        using (opened)
        {
            try
            {
                foreach (var path in paths) edit(opened.FileSystem, fs, path);
            }
            finally
            {
                fs.Flush();
            }
        }
    }

    /// <summary>A path argument as a list of images and inner paths; all must name the same image and partition.</summary>
    /// <exception cref="BadArgumentException">Arguments name different images.</exception>
    public static (ImagePathArgument First, List<string> Paths) SameImage(IEnumerable<string> args)
    {
        ImagePathArgument? first = null;
        var paths = new List<string>();
        foreach (var a in args)
        {
            var p = ImagePathArgument.Parse(a);
            if (!p.HasInnerPath) throw new BadArgumentException($"'{a}' names no path inside the image (IMAGE[:N]:/path).");
            if (first is null) first = p;
            else if (p.Image != first.Image || p.Partition != first.Partition) throw new BadArgumentException("Every path must be in the same image and partition.");
            paths.Add(p.InnerPath);
        }
        return (first ?? throw new BadArgumentException("No path given."), paths);
    }

    /// <summary>Joins a directory path and a name.</summary>
    public static string Join(string dir, string name) => dir.TrimEnd('/') + "/" + name;
}
