using System.Globalization;
using System.Xml;

namespace Discemu.Formats.Dmg;

/// <summary>
/// Reads the XML property list of a UDIF image: the <c>resource-fork</c> dictionary whose arrays hold the
/// resources (the <c>blkx</c> block tables as base64 <c>&lt;data&gt;</c>). Parsed with <see cref="XmlReader"/>
/// without DTD processing or external resolution, with the nesting depth and the document size bounded.
/// </summary>
internal static class DmgPlist
{
    /// <summary>Parses the property list and returns every resource of the resource-fork dictionary.</summary>
    /// <exception cref="CorruptImageException">The XML or its structure is invalid.</exception>
    public static IReadOnlyList<DmgResource> ReadResources(byte[] xml, string? path)
    {
        object? root;
        try
        {
            var settings = new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Ignore,
                XmlResolver = null,
                MaxCharactersFromEntities = 1024,
                MaxCharactersInDocument = Math.Max(1024, xml.LongLength * 2),
                IgnoreComments = true,
                IgnoreProcessingInstructions = true,
                IgnoreWhitespace = true,
            };
            using var reader = XmlReader.Create(new MemoryStream(xml, writable: false), settings);
            if (reader.MoveToContent() != XmlNodeType.Element || reader.LocalName != "plist")
                throw new CorruptImageException("The XML property list has no <plist> root element.", path);
            if (reader.IsEmptyElement) throw new CorruptImageException("The XML property list is empty.", path);
            reader.Read();
            if (reader.MoveToContent() != XmlNodeType.Element) throw new CorruptImageException("The XML property list holds no value.", path);
            root = ReadValue(reader, 0, path);
        }
        catch (XmlException e) { throw new CorruptImageException($"The XML property list is malformed: {e.Message}", path, e); }
        catch (FormatException e) { throw new CorruptImageException($"The XML property list holds invalid base64 data: {e.Message}", path, e); }
        if (root is not Dictionary<string, object?> top || !top.TryGetValue("resource-fork", out var forkValue) || forkValue is not Dictionary<string, object?> fork)
            throw new CorruptImageException("The XML property list has no resource-fork dictionary.", path);
        var resources = new List<DmgResource>();
        foreach (var (type, value) in fork)
        {
            if (value is not List<object?> list) continue;
            for (int i = 0; i < list.Count; i++)
            {
                if (list[i] is not Dictionary<string, object?> entry)
                    throw new CorruptImageException($"Resource {i} of type '{type}' is not a dictionary.", path);
                resources.Add(ToResource(type, i, entry, path));
            }
        }
        return resources;
    }

    private static DmgResource ToResource(string type, int index, Dictionary<string, object?> entry, string? path)
    {
        if (!entry.TryGetValue("Data", out var dataValue) || dataValue is not byte[] data)
            throw new CorruptImageException($"Resource {index} of type '{type}' has no Data.", path);
        string name = entry.GetValueOrDefault("Name") as string ?? entry.GetValueOrDefault("CFName") as string ?? "";
        int id = index;
        if (entry.GetValueOrDefault("ID") is string idText)
        {
            if (!int.TryParse(idText.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out id))
                throw new CorruptImageException($"Resource {index} of type '{type}' has an invalid ID '{Clip(idText)}'.", path);
        }
        int attributes = 0;
        if (entry.GetValueOrDefault("Attributes") is string attrText)
        {
            string hex = attrText.Trim();
            if (hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) hex = hex[2..];
            if (!int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out attributes))
                throw new CorruptImageException($"Resource {index} of type '{type}' has invalid Attributes '{Clip(attrText)}'.", path);
        }
        return new DmgResource(type, id, name, attributes, data);
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "...";

    /// <summary>Reads the value whose start element the reader is on, leaving the reader after its end.</summary>
    private static object? ReadValue(XmlReader r, int depth, string? path)
    {
        if (depth > DmgConstants.MaxPlistDepth) throw new CorruptImageException($"The XML property list nests deeper than {DmgConstants.MaxPlistDepth} levels.", path);
        switch (r.LocalName)
        {
            case "dict":
            {
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                if (r.IsEmptyElement) { r.Read(); return dict; }
                r.Read();
                while (true)
                {
                    var node = r.MoveToContent();
                    if (node == XmlNodeType.EndElement) { r.Read(); return dict; }
                    if (node != XmlNodeType.Element || r.LocalName != "key") throw new CorruptImageException("A <dict> of the XML property list holds something other than a <key>.", path);
                    string key = r.ReadElementContentAsString();
                    if (r.MoveToContent() != XmlNodeType.Element) throw new CorruptImageException($"The key '{Clip(key)}' of the XML property list has no value.", path);
                    dict[key] = ReadValue(r, depth + 1, path);
                }
            }
            case "array":
            {
                var list = new List<object?>();
                if (r.IsEmptyElement) { r.Read(); return list; }
                r.Read();
                while (true)
                {
                    var node = r.MoveToContent();
                    if (node == XmlNodeType.EndElement) { r.Read(); return list; }
                    if (node != XmlNodeType.Element) throw new CorruptImageException("An <array> of the XML property list holds text.", path);
                    list.Add(ReadValue(r, depth + 1, path));
                }
            }
            case "string":
            case "integer":
                return r.ReadElementContentAsString();
            case "data":
                return Convert.FromBase64String(r.ReadElementContentAsString());
            case "true":
                r.Skip();
                return true;
            case "false":
                r.Skip();
                return false;
            default:
                r.Skip();
                return null;
        }
    }
}
