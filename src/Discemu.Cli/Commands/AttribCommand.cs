using System.CommandLine;

namespace Discemu.Cli.Commands;

/// <summary><c>attrib [+r|-r] [+h|-h] [+s|-s] [+a|-a] IMAGE[:N]:/path...</c>: shows or changes DOS attributes, like mattrib.</summary>
internal static class AttribCommand
{
    private static readonly (char Letter, FileAttributes Flag)[] Flags =
        [('r', FileAttributes.ReadOnly), ('h', FileAttributes.Hidden), ('s', FileAttributes.System), ('a', FileAttributes.Archive)];

    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var options = Flags.SelectMany(f => new[]
        {
            (f.Flag, Set: true, Option: new Option<bool>("+" + f.Letter) { Description = $"Set {f.Flag}" }),
            (f.Flag, Set: false, Option: new Option<bool>("-" + f.Letter) { Description = $"Clear {f.Flag}" }),
        }).ToArray();
        var targets = new Argument<string[]>("IMAGE[:N]:/path") { Description = "Entries to show or change", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("attrib", "Show or change DOS attributes (read-only, hidden, system, archive) in the file system of an image") { targets };
        foreach (var o in options) cmd.Options.Add(o.Option);
        common.AddTo(cmd);
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var (first, paths) = FsEdit.SameImage(parse.GetValue(targets)!);
            var chosen = options.Where(o => parse.GetValue(o.Option)).ToList();
            if (chosen.Count == 0)
            {
                using var ro = new FsCommon().Open(ctx, parse, first);
                foreach (var path in paths)
                {
                    var e = ro.FileSystem.Lookup(path);
                    var letters = string.Concat(Flags.Select(f => e.Attributes.HasFlag(f.Flag) && e.Attributes != FileAttributes.Normal ? char.ToUpperInvariant(f.Letter) : ' '));
                    ctx.Out.WriteLine($"{letters}  {path}");
                }
                return 0;
            }
            var (opened, fs) = FsEdit.OpenWritable(ctx, parse, common, first);
            using (opened)
            {
                foreach (var path in paths)
                {
                    var e = opened.FileSystem.Lookup(path);
                    var a = e.Attributes & ~FileAttributes.Normal;
                    foreach (var (flag, set, _) in chosen) a = set ? a | flag : a & ~flag;
                    fs.SetAttributes(path, a);
                }
                fs.Flush();
            }
            return 0;
        }));
        return cmd;
    }
}
