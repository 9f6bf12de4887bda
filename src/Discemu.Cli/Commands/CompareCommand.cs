using System.CommandLine;
using Discemu.Operations;

namespace Discemu.Cli.Commands;

/// <summary><c>compare [-f fmt] [-F fmt] [-p] [-q] [-s] [-U] filename1 filename2</c>: exit 0 identical, 1 different, 2 error.</summary>
internal static class CompareCommand
{
    /// <summary>Exit code for errors (1 means "different").</summary>
    public const int ErrorExit = 2;

    public static Command Build(CliContext ctx)
    {
        var format1 = CommonOptions.Format("-f", "Format of the first image");
        var format2 = CommonOptions.Format("-F", "Format of the second image");
        var strict = new Option<bool>("-s") { Description = "Strict: sizes and allocation must match too" };
        var progress = CommonOptions.Progress();
        var quiet = CommonOptions.Quiet();
        var share = CommonOptions.ForceShare();
        var srcCache = CommonOptions.Cache("-T");
        var file1 = CommonOptions.File("filename1");
        var file2 = CommonOptions.File("filename2");
        var cmd = new Command("compare", "Check whether two images have the same content") { format1, format2, strict, progress, quiet, share, srcCache, file1, file2 };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string? f1 = ctx.FormatOption(parse, format1);
            string? f2 = ctx.FormatOption(parse, format2) ?? f1;
            using var a = ctx.Open(parse.GetValue(file1)!, f1);
            using var b = ctx.Open(parse.GetValue(file2)!, f2);
            var result = ctx.WithProgress(parse.GetValue(progress), "Comparing", cb => ImageComparer.Compare(a, b, parse.GetValue(strict), cb));
            var o = parse.GetValue(quiet) ? TextWriter.Null : ctx.Out;
            long common = Math.Min(a.Length, b.Length);
            if (result.SizesDiffer && (result.Identical || result.Offset >= common) && result.Outcome != CompareOutcome.SizeMismatch)
                o.WriteLine("Warning: Image size mismatch!");
            switch (result.Outcome)
            {
                case CompareOutcome.Identical: o.WriteLine("Images are identical."); return 0;
                case CompareOutcome.ContentMismatch: o.WriteLine($"Content mismatch at offset {result.Offset}!"); return 1;
                case CompareOutcome.StatusMismatch: o.WriteLine($"Strict mode: Offset {result.Offset} block status mismatch!"); return 1;
                default: o.WriteLine("Strict mode: Image size mismatch!"); return 1;
            }
        }, ErrorExit));
        return cmd;
    }
}
