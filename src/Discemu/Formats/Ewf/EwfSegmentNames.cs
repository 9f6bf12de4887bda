namespace Discemu.Formats.Ewf;

/// <summary>
/// Segment file names of an EWF set: <c>.E01 … .E99, .EAA … .EZZ, .FAA …</c> (likewise <c>.s01</c>
/// for SMART and <c>.L01</c> for logical evidence, lower or upper case as the first segment is
/// spelt), and <c>.Ex01 … .Ex99, .ExAA … .ExZZ, .EyAA …</c> for EWF2.
/// </summary>
public static class EwfSegmentNames
{
    /// <summary>
    /// The name of segment <paramref name="number"/> (1-based) of the set whose first segment is
    /// <paramref name="firstSegment"/>.
    /// </summary>
    /// <exception cref="BadArgumentException">The first segment's extension is not an EWF one, or the number is out of range.</exception>
    public static string For(string firstSegment, int number)
    {
        ArgumentNullException.ThrowIfNull(firstSegment);
        string ext = Path.GetExtension(firstSegment);
        string stem = firstSegment[..^ext.Length];
        if (TryParse(ext.TrimStart('.'), out var letters, out bool ewf2, out _))
            return stem + "." + Extension(letters, ewf2, number);
        throw new BadArgumentException($"'{firstSegment}' does not have an EWF segment extension (E01, s01, Ex01).");
    }

    /// <summary>The extension (without dot) of segment <paramref name="number"/>: <paramref name="letters"/> is "E", "e", "s", "Ex"….</summary>
    /// <exception cref="BadArgumentException">The number is beyond the naming scheme.</exception>
    public static string Extension(string letters, bool ewf2, int number)
    {
        if (number < 1) throw new BadArgumentException($"Segment number {number} is out of range.");
        bool lower = char.IsLower(letters[0]);
        if (number <= 99) return letters + number.ToString("D2", System.Globalization.CultureInfo.InvariantCulture);
        int n = number - 100;
        char A = lower ? 'a' : 'A';
        char c2 = (char)(A + n % 26);
        char c1 = (char)(A + n / 26 % 26);
        int carry = n / 676;
        if (ewf2)
        {
            // Ex99 → ExAA … ExZZ → EyAA … EzZZ
            char second = (char)(letters[1] + carry);
            if (second > (lower ? 'z' : 'z') || carry > 2) throw new BadArgumentException($"Segment number {number} is beyond the EWF2 naming scheme.");
            return $"{letters[0]}{second}{c1}{c2}";
        }
        char first = (char)(letters[0] + carry);
        if (first > (lower ? 'z' : 'Z')) throw new BadArgumentException($"Segment number {number} is beyond the EWF naming scheme.");
        return $"{first}{c1}{c2}";
    }

    /// <summary>
    /// Recognises an EWF segment extension (without dot): the letters that start the set's extensions,
    /// whether it is an EWF2 name, and the segment number the extension stands for.
    /// </summary>
    public static bool TryParse(string ext, out string letters, out bool ewf2, out int number)
    {
        letters = "";
        ewf2 = false;
        number = 0;
        if (ext.Length == 4 && char.IsAsciiLetter(ext[0]) && ext[1] is >= 'x' and <= 'z' or >= 'X' and <= 'Z')
        {
            ewf2 = true;
            letters = ext[..1] + (char.IsLower(ext[1]) ? 'x' : 'X');
            int carry = char.ToLowerInvariant(ext[1]) - 'x';
            return TryNumber(ext[2..], carry, out number);
        }
        if (ext.Length == 3 && char.IsAsciiLetter(ext[0]))
        {
            char first = ext[0];
            // The first letter of a set is E, L or S; later segments may have moved past it (F, G…).
            char start = char.IsLower(first) ? (first >= 'l' && first < 's' ? 'l' : first >= 's' ? 's' : 'e') : (first >= 'L' && first < 'S' ? 'L' : first >= 'S' ? 'S' : 'E');
            if (char.IsAsciiDigit(ext[1]) && char.IsAsciiDigit(ext[2])) start = first;
            letters = start.ToString();
            return TryNumber(ext[1..], first - start, out number);
        }
        return false;
    }

    private static bool TryNumber(string two, int carry, out int number)
    {
        number = 0;
        if (two.Length != 2) return false;
        if (char.IsAsciiDigit(two[0]) && char.IsAsciiDigit(two[1]))
        {
            number = (two[0] - '0') * 10 + (two[1] - '0');
            return carry == 0 && number >= 1;
        }
        if (char.IsAsciiLetter(two[0]) && char.IsAsciiLetter(two[1]))
        {
            int c1 = char.ToUpperInvariant(two[0]) - 'A', c2 = char.ToUpperInvariant(two[1]) - 'A';
            number = 100 + carry * 676 + c1 * 26 + c2;
            return true;
        }
        return false;
    }

    /// <summary>The first segment's path of the set that <paramref name="anySegment"/> belongs to (itself when it is the first).</summary>
    public static string FirstOf(string anySegment)
    {
        ArgumentNullException.ThrowIfNull(anySegment);
        string ext = Path.GetExtension(anySegment).TrimStart('.');
        if (!TryParse(ext, out var letters, out bool ewf2, out int number) || number == 1) return anySegment;
        string stem = anySegment[..^(ext.Length + 1)];
        return stem + "." + Extension(letters, ewf2, 1);
    }
}
