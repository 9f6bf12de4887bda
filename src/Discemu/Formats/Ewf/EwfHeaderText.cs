using System.Text;
using System.Xml;

namespace Discemu.Formats.Ewf;

/// <summary>
/// Parses and builds the text of header sections: the tab-separated "main" category of header
/// (ASCII), header2 (UTF-16 with a byte order mark) and EWF2 case data / device information objects,
/// and the XML of ewfx xheader sections.
/// </summary>
internal static class EwfHeaderText
{
    /// <summary>
    /// Decodes header bytes to text: UTF-16 when they start with a byte order mark, UTF-8 when they
    /// start with its mark or are valid UTF-8, else Latin-1 (the code page of old EnCase headers).
    /// </summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= 2 && bytes[0] == 0xff && bytes[1] == 0xfe) return Encoding.Unicode.GetString(bytes[2..(2 + ((bytes.Length - 2) & ~1))]);
        if (bytes.Length >= 2 && bytes[0] == 0xfe && bytes[1] == 0xff) return Encoding.BigEndianUnicode.GetString(bytes[2..(2 + ((bytes.Length - 2) & ~1))]);
        if (bytes.Length >= 3 && bytes[0] == 0xef && bytes[1] == 0xbb && bytes[2] == 0xbf) bytes = bytes[3..];
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { return Encoding.Latin1.GetString(bytes); }
    }

    /// <summary>
    /// Reads the "main" category of a tab-separated header text into tag/value pairs. With
    /// <paramref name="ewf2Escapes"/> the EWF2 escapes (U+0001 line feed, U+0002 carriage return,
    /// U+0003 tab) are decoded in values. Never throws; text of another shape gives what it can.
    /// </summary>
    public static Dictionary<string, string> ParseMain(string text, bool ewf2Escapes = false)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++) lines[i] = lines[i].TrimEnd('\r');
        int main = Array.FindIndex(lines, l => l.Trim() == "main");
        if (main < 0 || main + 2 >= lines.Length) return result;
        var tags = lines[main + 1].Split('\t');
        var values = lines[main + 2].Split('\t');
        for (int i = 0; i < tags.Length && i < values.Length; i++)
        {
            string tag = tags[i].Trim();
            if (tag.Length == 0 || result.ContainsKey(tag)) continue;
            string value = values[i];
            if (ewf2Escapes) value = value.Replace('\u0001', '\n').Replace('\u0002', '\r').Replace('\u0003', '\t');
            result[tag] = value.Trim();
        }
        return result;
    }

    /// <summary>Reads the child elements of an ewfx xheader/xhash document into name/value pairs. Never throws.</summary>
    public static Dictionary<string, string> ParseXml(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = EwfConstants.MaxHeaderText };
            using var reader = XmlReader.Create(new StringReader(text), settings);
            reader.MoveToContent();
            int depth = reader.Depth;
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.Element && reader.Depth == depth + 1)
                {
                    string name = reader.Name;
                    string value = reader.ReadElementContentAsString();
                    result.TryAdd(name, value.Trim());
                }
            }
        }
        catch (XmlException) { }
        catch (InvalidOperationException) { }
        return result;
    }

    /// <summary>Maps ewfx xheader element names to the header tags.</summary>
    public static Dictionary<string, string> XmlToTags(Dictionary<string, string> xml)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["case_number"] = "c", ["description"] = "a", ["examiner_name"] = "e", ["evidence_number"] = "n",
            ["notes"] = "t", ["acquiry_operating_system"] = "ov", ["acquiry_software_version"] = "av",
            ["acquiry_date"] = "m", ["system_date"] = "u", ["model"] = "md", ["serial_number"] = "sn",
        };
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in xml)
            if (map.TryGetValue(k, out var tag)) tags[tag] = v;
        return tags;
    }

    /// <summary>Makes a value safe for a tab-separated header line.</summary>
    private static string Clean(string? value) => (value ?? "").Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ');

    /// <summary>Builds an EnCase 6 header2 text (UTF-16LE with byte order mark, three categories).</summary>
    public static byte[] BuildHeader2(EwfCaseInfo info, DateTimeOffset acquired)
    {
        string epoch = acquired.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append("3\nmain\n");
        sb.Append("a\tc\tn\te\tt\tmd\tsn\tav\tov\tm\tu\tp\tdc\n");
        sb.AppendJoin('\t', Clean(info.Description), Clean(info.CaseNumber), Clean(info.EvidenceNumber), Clean(info.ExaminerName),
            Clean(info.Notes), Clean(info.Model), Clean(info.SerialNumber), Clean(info.SoftwareVersion), Clean(info.AcquisitionSystem),
            epoch, epoch, "0", "");
        sb.Append("\n\n");
        sb.Append("srce\n0\t1\np\tn\tid\tev\ttb\tlo\tpo\tah\tgu\taq\n0\t0\n\t\t\t\t\t-1\t-1\t\t\t\n\n");
        sb.Append("sub\n0\t1\np\tn\tid\tnu\tco\tgu\n0\t0\n\t\t\t\t1\t\n\n");
        var text = Encoding.Unicode.GetBytes(sb.ToString());
        var result = new byte[text.Length + 2];
        result[0] = 0xff;
        result[1] = 0xfe;
        text.CopyTo(result, 2);
        return result;
    }

    /// <summary>Builds an EnCase 4–7 header text (ASCII, CR LF line ends).</summary>
    public static byte[] BuildHeader(EwfCaseInfo info, DateTimeOffset acquired)
    {
        var local = acquired.ToLocalTime();
        string date = FormattableString.Invariant($"{local.Year} {local.Month} {local.Day} {local.Hour} {local.Minute} {local.Second}");
        var sb = new StringBuilder();
        sb.Append("1\r\nmain\r\nc\tn\ta\te\tt\tav\tov\tm\tu\tp\r\n");
        sb.AppendJoin('\t', Clean(info.CaseNumber), Clean(info.EvidenceNumber), Clean(info.Description), Clean(info.ExaminerName),
            Clean(info.Notes), Clean(info.SoftwareVersion), Clean(info.AcquisitionSystem), date, date, "0");
        sb.Append("\r\n\r\n");
        // The header section is single-byte text: characters outside Latin-1 become '?'.
        return Encoding.Latin1.GetBytes(sb.ToString());
    }
}
