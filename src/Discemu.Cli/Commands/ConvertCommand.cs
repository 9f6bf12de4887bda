using System.CommandLine;
using Discemu.Block;
using Discemu.Formats;
using Discemu.Operations;
using Discemu.Util;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>convert [-f fmt] [-O output_fmt] [-o options] [-c] [-p] [-q] [-n] [--target-is-zero] [-S sparse_size]
/// [-m num] [-W] [-B backing_file [-F backing_fmt]] [-l snapshot_param] [-U] filename [filename2 [...]] output_filename</c>
/// </summary>
internal static class ConvertCommand
{
    /// <summary>qemu-img's message for -c with a format that has no compressed clusters.</summary>
    public const string CompressionUnsupported = Discemu.Operations.ImageCopier.CompressionUnsupportedMessage;

    public static Command Build(CliContext ctx)
    {
        var format = CommonOptions.Format();
        var outFormat = CommonOptions.Format("-O", "Output format (default raw)");
        var options = CommonOptions.CreateOptions();
        var compress = new Option<bool>("-c") { Description = "Compress the target (formats with compressed clusters only)" };
        var progress = CommonOptions.Progress();
        var quiet = CommonOptions.Quiet();
        var noCreate = new Option<bool>("-n") { Description = "Write into an existing target instead of creating it" };
        var targetIsZero = new Option<bool>("--target-is-zero") { Description = "The existing target (-n) already reads as zeros" };
        var sparse = new Option<string?>("-S") { Description = "Zero runs of at least this size become holes (default 4k; 0 = fully allocate)", HelpName = "sparse_size" };
        var parallel = new Option<int>("-m") { Description = "Parallel requests (1-16, default 8)", DefaultValueFactory = _ => 8, HelpName = "num" };
        var outOfOrder = new Option<bool>("-W") { Description = "Allow out-of-order writes" };
        var backing = new Option<string?>("-B") { Description = "Backing file of the target: only what differs from it is written", HelpName = "backing_file" };
        var backingFormat = CommonOptions.Format("-F", "Format of the -B backing file");
        var snapshotParam = new Option<string?>("-l") { Description = "Convert an internal snapshot of the source: snapshot.id=ID,snapshot.name=NAME, or an id or name", HelpName = "snapshot_param" };
        var share = CommonOptions.ForceShare();
        var cache = new Option<string?>("-t")
        {
            Description = "Cache mode of the target: unsafe (default: no final flush), writeback, writethrough, none or directsync (flush at the end)",
            HelpName = "cache",
        };
        var srcCache = CommonOptions.Cache("-T");
        var files = new Argument<string[]>("filenames") { Description = "Source images, then the output file", Arity = new ArgumentArity(2, 100_000) };
        var cmd = new Command("convert", "Convert (copy) images to another format")
        {
            format, outFormat, options, compress, progress, quiet, noCreate, targetIsZero, sparse, parallel, outOfOrder,
            backing, backingFormat, snapshotParam, share, cache, srcCache, files,
        };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var fmt = ctx.Registry.Find(parse.GetValue(outFormat) ?? "raw");
            var optionTexts = parse.GetValue(options);
            if (CreateOptionsHelp.TryPrint(ctx.Out, fmt, optionTexts)) return 0;
            var names = parse.GetValue(files)!;
            string target = names[^1];
            bool existing = parse.GetValue(noCreate);
            if (parse.GetValue(targetIsZero) && !existing) throw new BadArgumentException("--target-is-zero requires use of -n flag.");
            if (existing && optionTexts is { Length: > 0 }) throw new BadArgumentException("-o has no effect when skipping image creation (-n).");
            var copyOptions = new CopyOptions
            {
                SparseSize = parse.GetValue(sparse) is { } s ? SizeParser.Parse(s, "sparse size") : CopyOptions.DefaultSparseSize,
                Compress = parse.GetValue(compress),
                ParallelRequests = parse.GetValue(parallel),
                OutOfOrderWrites = parse.GetValue(outOfOrder),
                TargetIsZero = !existing || parse.GetValue(targetIsZero),
                FlushTarget = FlushesTarget(parse.GetValue(cache)),
            };
            copyOptions.Validate();
            // Refused before anything is opened or created, so no target file is left behind (as qemu-img does).
            if (copyOptions.Compress && !fmt.SupportsCompression) throw new NotSupportedException(CompressionUnsupported);
            string? srcFormat = ctx.FormatOption(parse, format);
            var sources = new List<DiskImage>();
            try
            {
                foreach (var name in names[..^1]) sources.Add(ctx.Open(name, srcFormat));
                string? snapshot = SnapshotParameter.Parse(parse.GetValue(snapshotParam));
                using BlockDevice source = SourceDevice(sources, snapshot);
                string? backingName = parse.GetValue(backing);
                using var dest = existing
                    ? ctx.Open(target, fmt.Name, writable: true)
                    : CreateTarget(ctx, fmt, target, source.Length, optionTexts, backingName, ctx.FormatOption(parse, backingFormat));
                if (copyOptions.Compress && dest is not ICompressedWriter)
                    throw new NotSupportedException(CompressionUnsupported);
                DiskImage? ownBacking = null;
                try
                {
                    BlockDevice? targetBacking = null;
                    if (backingName is not null)
                        targetBacking = dest.Backing ?? (ownBacking = ctx.Open(DiskImage.ResolveRelative(target, backingName), ctx.FormatOption(parse, backingFormat)));
                    var effective = copyOptions with { TargetBacking = targetBacking };
                    ctx.WithProgress(parse.GetValue(progress) && !parse.GetValue(quiet), "Converting", cb => ImageCopier.Copy(source, dest, effective with { Progress = cb }));
                }
                finally { ownBacking?.Dispose(); }
            }
            finally
            {
                foreach (var src in sources) src.Dispose();
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>What is copied: the sources one after the other, or the one source's internal snapshot.</summary>
    /// <exception cref="BadArgumentException">A snapshot is asked of several sources, or names none.</exception>
    private static BlockDevice SourceDevice(List<DiskImage> sources, string? snapshot)
    {
        if (snapshot is not null)
            return sources.Count == 1 ? SnapshotParameter.Open(sources[0], snapshot) : throw new BadArgumentException("No support for concatenating multiple snapshot.");
        return sources.Count == 1 ? new SubRangeDevice(sources[0], 0, sources[0].Length) : new ConcatDevice(sources, ownsParts: false);
    }

    /// <summary>
    /// qemu-img's cache modes for the convert target: the default, <c>unsafe</c>, never flushes;
    /// every other mode makes the data durable before the command ends.
    /// </summary>
    private static bool FlushesTarget(string? mode) => mode switch
    {
        null or "unsafe" => false,
        "writeback" or "writethrough" or "none" or "off" or "directsync" => true,
        _ => throw new BadArgumentException($"Invalid cache option: {mode}"),
    };

    private static DiskImage CreateTarget(CliContext ctx, ImageFormat fmt, string path, long size, string[]? optionTexts, string? backing, string? backingFormat)
    {
        if (backing is not null && backingFormat is null)
        {
            using var b = ctx.Open(DiskImage.ResolveRelative(path, backing), null, openBacking: false);
            backingFormat = b.Format.Name;
        }
        var request = new ImageCreateRequest(path, size, CreateOptions.Parse(optionTexts ?? []), ctx.Opener)
        {
            BackingFile = backing,
            BackingFormat = backingFormat,
        };
        try
        {
            return fmt.Create(request);
        }
        catch (DiscemuException e) when (e.ImagePath is null)
        {
            throw new BadArgumentException(e.Message, path, e);
        }
    }
}
