using System.CommandLine;
using System.Globalization;
using System.Text;
using Discemu.Cli.Output;
using Discemu.FileSystems;

namespace Discemu.Cli.Commands;

/// <summary><c>ls [-l] [-R] IMAGE[:N][:/path]</c>: lists a directory of the file system in an image, like ls.</summary>
internal static class LsCommand
{
    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var longFormat = new Option<bool>("-l") { Description = "Long listing: mode, links, owner, group, size, date, name" };
        var recursive = new Option<bool>("-R") { Description = "List subdirectories recursively" };
        var target = CommonOptions.File("IMAGE[:N][:/path]");
        var cmd = new Command("ls", "List files in the file system of an image") { longFormat, recursive, target };
        common.AddTo(cmd);
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var arg = ImagePathArgument.Parse(parse.GetValue(target)!);
            using var opened = common.Open(ctx, parse, arg);
            var fs = opened.FileSystem;
            var entry = fs.Lookup(arg.InnerPath);
            bool l = parse.GetValue(longFormat);
            var guard = new WalkGuard(fs);
            using var output = new BufferedOutput(ctx.Out);
            if (!entry.IsDirectory) WriteEntries(output, [(entry, arg.InnerPath)], l);
            else if (!parse.GetValue(recursive)) WriteEntries(output, guard.List(entry, arg.InnerPath).Select(e => (e, e.Name)).ToList(), l);
            else WriteRecursive(output, guard, entry, NormalizePath(arg.InnerPath), l, first: true);
            return 0;
        }, file: parse.GetValue(target)));
        return cmd;
    }

    /// <summary>"/a/b/" → "/a/b"; "" → "/".</summary>
    internal static string NormalizePath(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return "/" + string.Join('/', parts);
    }

    private static void WriteRecursive(TextWriter output, WalkGuard guard, FileSystemEntry dir, string shown, bool l, bool first)
    {
        var entries = guard.List(dir, shown);
        if (!first) output.WriteLine();
        output.WriteLine($"{Printable(shown)}:");
        WriteEntries(output, entries.Select(e => (e, e.Name)).ToList(), l);
        foreach (var e in entries.Where(e => e.IsDirectory))
            WriteRecursive(output, guard, e, shown == "/" ? "/" + e.Name : shown + "/" + e.Name, l, first: false);
    }

    /// <summary>Writes entries one per line, or in ls -l's columns (widths computed over the whole list).</summary>
    internal static void WriteEntries(TextWriter output, IReadOnlyList<(FileSystemEntry Entry, string Shown)> entries, bool l)
    {
        if (!l)
        {
            foreach (var (_, shown) in entries) output.WriteLine(Printable(shown));
            return;
        }
        var rows = entries.Select(x => (x.Entry, x.Shown, Links: (x.Entry.Links ?? 1).ToString(CultureInfo.InvariantCulture),
            Uid: (x.Entry.Uid ?? 0).ToString(CultureInfo.InvariantCulture), Gid: (x.Entry.Gid ?? 0).ToString(CultureInfo.InvariantCulture),
            Size: SizeColumn(x.Entry))).ToList();
        int links = rows.Select(r => r.Links.Length).DefaultIfEmpty(1).Max();
        int uid = rows.Select(r => r.Uid.Length).DefaultIfEmpty(1).Max();
        int gid = rows.Select(r => r.Gid.Length).DefaultIfEmpty(1).Max();
        int size = rows.Select(r => r.Size.Length).DefaultIfEmpty(1).Max();
        var now = DateTimeOffset.Now;
        foreach (var r in rows)
        {
            var sb = new StringBuilder();
            sb.Append(ModeString(r.Entry)).Append(' ')
              .Append(r.Links.PadLeft(links)).Append(' ')
              .Append(r.Uid.PadLeft(uid)).Append(' ')
              .Append(r.Gid.PadLeft(gid)).Append(' ')
              .Append(r.Size.PadLeft(size)).Append(' ')
              .Append(DateColumn(r.Entry.Modified, now)).Append(' ')
              .Append(Printable(r.Shown));
            if (r.Entry.Kind == FileSystemEntryKind.Symlink) sb.Append(" -> ").Append(Printable(r.Entry.SymlinkTarget ?? ""));
            output.WriteLine(sb.ToString());
        }
    }

    private static string SizeColumn(FileSystemEntry e)
    {
        if (e.DeviceNumber is { } dev && (e.Mode & 0xF000) is 0x2000 or 0x6000)
        {
            // glibc's dev_t encoding: major in bits 8-19 and 32-43, minor in bits 0-7 and 12-31.
            ulong major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFFUL);
            ulong minor = (dev & 0xFF) | ((dev >> 12) & ~0xFFUL);
            return string.Create(CultureInfo.InvariantCulture, $"{major}, {minor}");
        }
        return e.Size.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>ls's date column: "Mon dd HH:MM" within six months in the past, else "Mon dd  YYYY" (local time).</summary>
    internal static string DateColumn(DateTimeOffset? time, DateTimeOffset now)
    {
        if (time is not { } t) return "            ";
        var local = t.ToLocalTime();
        bool recent = t <= now && t > now.AddDays(-182.5);
        string day = local.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2);
        string month = local.ToString("MMM", CultureInfo.InvariantCulture);
        return recent ? $"{month} {day} {local.ToString("HH:mm", CultureInfo.InvariantCulture)}" : $"{month} {day}  {local.Year.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>ls's mode column; without a recorded mode, r-x for directories and r-- for files, as a read-only mount shows them.</summary>
    internal static string ModeString(FileSystemEntry e)
    {
        uint mode = e.Mode ?? (e.Kind switch
        {
            FileSystemEntryKind.Directory => 0x4000u | 0x16D, // dr-xr-xr-x
            FileSystemEntryKind.Symlink => 0xA000u | 0x1FF,
            _ => 0x8000u | 0x124,                           // -r--r--r--
        });
        char type = e.Kind switch
        {
            FileSystemEntryKind.Directory => 'd',
            FileSystemEntryKind.Symlink => 'l',
            FileSystemEntryKind.File => '-',
            _ => (mode & 0xF000) switch { 0x2000 => 'c', 0x6000 => 'b', 0x1000 => 'p', 0xC000 => 's', _ => '?' },
        };
        var s = new char[10];
        s[0] = type;
        const string rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) s[i + 1] = (mode & (1u << (8 - i))) != 0 ? rwx[i] : '-';
        if ((mode & 0x800) != 0) s[3] = s[3] == 'x' ? 's' : 'S';
        if ((mode & 0x400) != 0) s[6] = s[6] == 'x' ? 's' : 'S';
        if ((mode & 0x200) != 0) s[9] = s[9] == 'x' ? 't' : 'T';
        return new string(s);
    }

    /// <summary>A name with control characters shown as '?', as ls does on a terminal.</summary>
    internal static string Printable(string name)
        => name.Any(char.IsControl) ? new string([.. name.Select(c => char.IsControl(c) ? '?' : c)]) : name;
}
