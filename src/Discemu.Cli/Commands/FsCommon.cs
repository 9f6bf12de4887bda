using System.CommandLine;
using Discemu.FileSystems;
using Discemu.Formats;

namespace Discemu.Cli.Commands;

/// <summary>The options every file command shares (-f, -t, --session, --names) and opening IMAGE[:N][:/path].</summary>
internal sealed class FsCommon
{
    public Option<string?> Format { get; } = CommonOptions.Format();
    public Option<string?> Type { get; } = new("--type") { Description = "File system type (detected when omitted): iso9660, udf, fat", HelpName = "fstype" };
    public Option<int?> Session { get; } = new("--session") { Description = "Multi-session images: the session to read (1 = oldest; default: the last)", HelpName = "N" };
    public Option<string?> Names { get; } = new("--names") { Description = "ISO 9660: the names to show (default: Rock Ridge, else Joliet, else ISO 9660)", HelpName = "iso|joliet|rr" };

    /// <summary>Adds the shared options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Format);
        command.Options.Add(Type);
        command.Options.Add(Session);
        command.Options.Add(Names);
    }

    /// <summary>
    /// Opens the image (with its backing chain; read-only unless <paramref name="writable"/>) and the file system
    /// in it: in the partition the argument names, else on the whole disk, else in its one partition holding one.
    /// </summary>
    public OpenedFileSystem Open(CliContext ctx, ParseResult parse, ImagePathArgument arg, bool writable = false)
    {
        var disk = ctx.Open(arg.Image, ctx.FormatOption(parse, Format), writable);
        try
        {
            var volume = VolumeLocator.Open(disk, arg.Partition, new FileSystemOpenOptions
            {
                Type = parse.GetValue(Type),
                Session = parse.GetValue(Session),
                Names = parse.GetValue(Names),
                DisplayPath = arg.Image,
                Writable = writable,
            });
            return new OpenedFileSystem(disk, volume);
        }
        catch
        {
            disk.Dispose();
            throw;
        }
    }
}

/// <summary>An image and the file system opened in it, disposed together.</summary>
internal sealed class OpenedFileSystem(DiskImage image, OpenedVolume volume) : IDisposable
{
    public DiskImage Image { get; } = image;
    public FileSystem FileSystem => volume.FileSystem;

    public void Dispose()
    {
        volume.Dispose();
        Image.Dispose();
    }
}

/// <summary>A directory reached during a walk; repeated directories are refused (a damaged image could make a walk exponential).</summary>
internal sealed class WalkGuard(FileSystem fs)
{
    private readonly HashSet<object> _seen = [];

    /// <summary>Lists <paramref name="dir"/>, sorted by name, unless it was already listed in this walk.</summary>
    /// <exception cref="CorruptImageException">The directory was already listed.</exception>
    public List<FileSystemEntry> List(FileSystemEntry dir, string shown)
    {
        if (dir.Identity is { } id && !_seen.Add(id))
            throw new CorruptImageException($"Directory '{shown}' is reached twice in the tree.", fs.DisplayPath);
        return [.. fs.ListDirectory(dir).OrderBy(e => e.Name, StringComparer.Ordinal)];
    }
}
