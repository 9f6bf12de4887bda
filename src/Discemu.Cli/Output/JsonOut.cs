using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Discemu.Cli.Output;

/// <summary>Writes JSON the way qemu-img prints it: four-space indentation, one value per line.</summary>
internal static class JsonOut
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        IndentSize = 4,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes one JSON document followed by a newline.</summary>
    public static void Write(TextWriter output, Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Options)) body(writer);
        output.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>Writes a property of a format-specific value (string, number, bool, list or dictionary).</summary>
    public static void WriteValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int or long or short or byte or sbyte or ushort or uint:
                w.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            case ulong u: w.WriteNumberValue(u); break;
            case double or float or decimal:
                w.WriteNumberValue(Convert.ToDouble(value, CultureInfo.InvariantCulture)); break;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                w.WriteStartObject();
                foreach (var (k, v) in pairs)
                {
                    w.WritePropertyName(k);
                    WriteValue(w, v);
                }
                w.WriteEndObject();
                break;
            case IDictionary dict:
                w.WriteStartObject();
                foreach (DictionaryEntry e in dict)
                {
                    w.WritePropertyName(Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "");
                    WriteValue(w, e.Value);
                }
                w.WriteEndObject();
                break;
            case IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list) WriteValue(w, item);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }
}
