using System.CommandLine;
using System.Globalization;
using Discemu.FileSystems.Iso9660.Authoring;
using Discemu.Formats;

namespace Discemu.Cli.Commands;

/// <summary>
/// <c>mkiso -o OUT [-O fmt] [mkisofs-style options] SOURCE|/dest=src...</c>: authors an ISO 9660 image with Rock Ridge
/// and Joliet (on by default) and El Torito boot entries, as raw .iso or straight into any writable format.
/// </summary>
internal static class MkisoCommand
{
    public static Command Build(CliContext ctx)
    {
        static Option<string[]> Many(string name, string description, string help, params string[] aliases) => new(name, aliases)
        {
            Description = description, HelpName = help, Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false,
        };
        var output = new Option<string?>("-o") { Description = "Output file", HelpName = "file" };
        var format = CommonOptions.Format("-O", "Output format (default raw: a plain .iso)");
        var volume = new Option<string?>("-V") { Description = "Volume identifier", HelpName = "id" };
        var publisher = new Option<string?>("-publisher") { Description = "Publisher identifier", HelpName = "id" };
        var application = new Option<string?>("-A", "-appid") { Description = "Application identifier", HelpName = "id" };
        var preparer = new Option<string?>("-p", "-preparer") { Description = "Data preparer identifier", HelpName = "id" };
        var system = new Option<string?>("-sysid") { Description = "System identifier", HelpName = "id" };
        var volset = new Option<string?>("-volset") { Description = "Volume set identifier", HelpName = "id" };
        var level = new Option<int?>("-iso-level") { Description = "ISO 9660 level 1, 2 or 3 (default 3: multi-extent files of 4 GiB and more)", HelpName = "n" };
        var rock = new Option<bool>("-R", "-rock") { Description = "Rock Ridge (the default)" };
        var rational = new Option<bool>("-r", "-rational-rock") { Description = "Rock Ridge with owner 0 and rationalized modes" };
        var joliet = new Option<bool>("-J", "-joliet") { Description = "Joliet (the default)" };
        var jolietLong = new Option<bool>("-joliet-long") { Description = "Joliet names of up to 103 characters" };
        var noRock = new Option<bool>("--no-rock") { Description = "No Rock Ridge" };
        var noJoliet = new Option<bool>("--no-joliet") { Description = "No Joliet tree" };
        var graft = new Option<bool>("-graft-points") { Description = "Accepted: graft points /dest=src are always recognised" };
        var exclude = Many("-m", "Leave out names or paths matching a glob", "glob", "-exclude");
        var hidden = Many("-hidden", "Record matching names or paths with the hidden flag", "glob");
        var bootImage = Many("-b", "BIOS boot image (path in the ISO tree); floppy emulation unless -no-emul-boot or -hard-disk-boot", "path", "-eltorito-boot");
        var efiImage = Many("-e", "EFI boot image (path in the ISO tree)", "path", "-efi-boot");
        var catalog = new Option<string?>("-c", "-eltorito-catalog") { Description = "Boot catalog path in the ISO tree", HelpName = "path" };
        var noEmul = new Option<bool>("-no-emul-boot") { Description = "The current boot entry has no emulation" };
        var hardDisk = new Option<bool>("-hard-disk-boot") { Description = "The current boot entry emulates a hard disk" };
        var loadSize = Many("-boot-load-size", "512-byte sectors the firmware loads (current entry)", "n");
        var infoTable = new Option<bool>("-boot-info-table") { Description = "Patch a boot information table into the current entry's image" };
        var altBoot = new Option<bool>("-eltorito-alt-boot") { Description = "Start a new boot entry" };
        var hybridMbr = new Option<string?>("--isohybrid-mbr", "-isohybrid-mbr") { Description = "isohybrid MBR template (e.g. /usr/lib/ISOLINUX/isohdpfx.bin): the image also boots from a USB stick", HelpName = "file" };
        var gpt = new Option<bool>("--gpt") { Description = "isohybrid GPT: protective MBR, primary and backup GPT listing the ISO and the appended partition" };
        var efiPart = new Option<string?>("--efi-partition") { Description = "Append this image (e.g. a FAT EFI system partition) after the ISO as partition 2, type 0xEF", HelpName = "file" };
        var quiet = new Option<bool>("-quiet", "-q") { Description = "Print nothing but errors" };
        var sources = new Argument<string[]>("sources") { Description = "Directories, files and graft points /dest=src", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("mkiso", "Author an ISO 9660 image (Rock Ridge, Joliet, El Torito)")
        {
            output, format, volume, publisher, application, preparer, system, volset, level, rock, rational, joliet, jolietLong,
            noRock, noJoliet, graft, exclude, hidden, bootImage, efiImage, catalog, noEmul, hardDisk, loadSize, infoTable, altBoot,
            hybridMbr, gpt, efiPart, quiet, sources,
        };
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            string path = parse.GetValue(output) ?? throw new BadArgumentException("mkiso needs an output file (-o).");
            var fmt = ctx.Registry.Find(ctx.FormatOption(parse, format) ?? "raw");
            var options = new IsoAuthorOptions
            {
                Sources = parse.GetValue(sources) ?? [],
                Level = parse.GetValue(level) ?? 3,
                RockRidge = !parse.GetValue(noRock),
                RationalRockRidge = parse.GetValue(rational),
                Joliet = !parse.GetValue(noJoliet),
                JolietLong = parse.GetValue(jolietLong),
                Exclude = parse.GetValue(exclude) ?? [],
                Hidden = parse.GetValue(hidden) ?? [],
                VolumeId = parse.GetValue(volume) ?? "CDROM",
                SystemId = parse.GetValue(system) ?? "LINUX",
                VolumeSetId = parse.GetValue(volset) ?? "",
                PublisherId = parse.GetValue(publisher) ?? "",
                PreparerId = parse.GetValue(preparer) ?? "",
                ApplicationId = parse.GetValue(application) ?? "DISCEMU",
                SourceDateEpoch = SourceDateEpoch(),
                BootEntries = IsoBootArguments.Parse(parse.Tokens.Select(t => t.Value).ToList()),
                BootCatalogPath = parse.GetValue(catalog),
                IsoHybridMbr = parse.GetValue(hybridMbr),
                Gpt = parse.GetValue(gpt),
                EfiPartition = parse.GetValue(efiPart),
            };
            using var plan = IsoAuthor.Plan(options);
            try
            {
                using (var image = fmt.Create(new ImageCreateRequest(path, plan.Size, CreateOptions.Parse([]), ctx.Opener)))
                {
                    plan.WriteTo(image);
                    // Like xorriso, a plain .iso is left to the page cache (no fsync); other formats flush their metadata.
                    if (fmt.Name != "raw") image.Flush();
                }
            }
            catch
            {
                try { File.Delete(path); } catch (IOException) { } // never leave a half-written image behind
                throw;
            }
            if (!parse.GetValue(quiet))
                ctx.Out.WriteLine($"Wrote '{path}' ({fmt.Name}): {plan.Size} bytes, {plan.Files} files, {plan.Directories} directories.");
            return 0;
        }, file: parse.GetValue(output)));
        return cmd;
    }

    /// <summary>SOURCE_DATE_EPOCH (seconds since 1970) from the environment.</summary>
    /// <exception cref="BadArgumentException">It is set but not a number of seconds.</exception>
    private static DateTimeOffset? SourceDateEpoch()
    {
        string? text = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        if (string.IsNullOrEmpty(text)) return null;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long s) || s > 253402300799L)
            throw new BadArgumentException($"SOURCE_DATE_EPOCH '{text}' is not a number of seconds since 1970.");
        return DateTimeOffset.FromUnixTimeSeconds(s);
    }
}
