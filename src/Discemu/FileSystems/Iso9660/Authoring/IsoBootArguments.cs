using System.Globalization;

namespace Discemu.FileSystems.Iso9660.Authoring;

/// <summary>mkisofs-style El Torito options, whose meaning depends on their order.</summary>
public static class IsoBootArguments
{
    /// <summary>
    /// The boot entries in command-line order, as mkisofs reads them: -b or -e starts an entry (a second one
    /// after -eltorito-alt-boot), and -no-emul-boot, -hard-disk-boot, -boot-load-size, -boot-info-table apply to the
    /// current one. -b defaults to floppy emulation, -e is always without emulation.
    /// </summary>
    /// <param name="tokens">The command line's tokens in order (other options' values are skipped).</param>
    /// <exception cref="BadArgumentException">A boot option without a boot image, a second image without -eltorito-alt-boot, a bad load size.</exception>
    public static List<IsoBootEntry> Parse(IReadOnlyList<string> tokens)
    {
        var entries = new List<IsoBootEntry>();
        IsoBootEntry? current = null;
        bool alt = false;
        void Commit()
        {
            if (current is not null) entries.Add(current);
            current = null;
        }
        for (int i = 0; i < tokens.Count; i++)
        {
            string t = tokens[i];
            string? Next() => i + 1 < tokens.Count ? tokens[++i] : null;
            switch (t)
            {
                case "-b" or "-eltorito-boot" or "-e" or "-efi-boot":
                    bool efi = t is "-e" or "-efi-boot";
                    string image = Next() ?? throw new BadArgumentException($"{t} needs a path.");
                    if (current is not null && !alt) throw new BadArgumentException($"{t} '{image}': use -eltorito-alt-boot before a second boot image.");
                    Commit();
                    alt = false;
                    current = new IsoBootEntry { ImagePath = image, Efi = efi, Emulation = efi ? IsoBootEmulation.NoEmulation : IsoBootEmulation.Floppy };
                    break;
                case "-eltorito-alt-boot":
                    alt = true;
                    break;
                case "-no-emul-boot":
                    current = Require(current, t) with { Emulation = IsoBootEmulation.NoEmulation };
                    break;
                case "-hard-disk-boot":
                    current = Require(current, t) with { Emulation = IsoBootEmulation.HardDisk };
                    break;
                case "-boot-info-table":
                    current = Require(current, t) with { BootInfoTable = true };
                    break;
                case "-boot-load-size":
                    string n = Next() ?? throw new BadArgumentException("-boot-load-size needs a number.");
                    if (!int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int sectors) || sectors > ushort.MaxValue)
                        throw new BadArgumentException($"Boot load size '{n}' is not a number of sectors from 0 to 65535.");
                    current = Require(current, t) with { LoadSize = sectors };
                    break;
                case "-o" or "-O" or "-V" or "-publisher" or "-A" or "-appid" or "-p" or "-preparer" or "-sysid" or "-volset" or "-iso-level"
                    or "-m" or "-exclude" or "-hidden" or "-c" or "-eltorito-catalog" or "--isohybrid-mbr" or "-isohybrid-mbr":
                    i++; // skip the value, which might look like a boot option
                    break;
            }
        }
        Commit();
        return entries;
    }

    private static IsoBootEntry Require(IsoBootEntry? current, string option)
        => current ?? throw new BadArgumentException($"{option} applies to a boot image: give -b or -e first.");
}
