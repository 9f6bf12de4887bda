using System.Globalization;

namespace Discemu.Formats.Ewf;

/// <summary>
/// The case metadata of an EWF image (header, header2, xheader sections; EWF2 case data and device
/// information), as free-form strings. Null means absent.
/// </summary>
public sealed record EwfCaseInfo
{
    /// <summary>Case number (<c>c</c>).</summary>
    public string? CaseNumber { get; init; }
    /// <summary>Unique description (<c>a</c>).</summary>
    public string? Description { get; init; }
    /// <summary>Examiner name (<c>e</c>).</summary>
    public string? ExaminerName { get; init; }
    /// <summary>Evidence number (<c>n</c>).</summary>
    public string? EvidenceNumber { get; init; }
    /// <summary>Notes (<c>t</c>).</summary>
    public string? Notes { get; init; }
    /// <summary>Acquisition date and time (<c>m</c>), ISO 8601; with a Z when the file stores UTC.</summary>
    public string? AcquisitionDate { get; init; }
    /// <summary>System date and time (<c>u</c>), ISO 8601.</summary>
    public string? SystemDate { get; init; }
    /// <summary>Operating system used for the acquisition (<c>ov</c>).</summary>
    public string? AcquisitionSystem { get; init; }
    /// <summary>Software used for the acquisition (xheader's acquiry_software).</summary>
    public string? AcquisitionSoftware { get; init; }
    /// <summary>Version of the acquisition software (<c>av</c>).</summary>
    public string? SoftwareVersion { get; init; }
    /// <summary>Model of the acquired device (<c>md</c>).</summary>
    public string? Model { get; init; }
    /// <summary>Serial number of the acquired device (<c>sn</c>).</summary>
    public string? SerialNumber { get; init; }
    /// <summary>Device label (<c>l</c>).</summary>
    public string? DeviceLabel { get; init; }

    /// <summary>Fields of <paramref name="other"/> fill the ones this record lacks.</summary>
    internal EwfCaseInfo FillFrom(EwfCaseInfo? other) => other is null ? this : new EwfCaseInfo
    {
        CaseNumber = CaseNumber ?? other.CaseNumber,
        Description = Description ?? other.Description,
        ExaminerName = ExaminerName ?? other.ExaminerName,
        EvidenceNumber = EvidenceNumber ?? other.EvidenceNumber,
        Notes = Notes ?? other.Notes,
        AcquisitionDate = AcquisitionDate ?? other.AcquisitionDate,
        SystemDate = SystemDate ?? other.SystemDate,
        AcquisitionSystem = AcquisitionSystem ?? other.AcquisitionSystem,
        AcquisitionSoftware = AcquisitionSoftware ?? other.AcquisitionSoftware,
        SoftwareVersion = SoftwareVersion ?? other.SoftwareVersion,
        Model = Model ?? other.Model,
        SerialNumber = SerialNumber ?? other.SerialNumber,
        DeviceLabel = DeviceLabel ?? other.DeviceLabel,
    };

    /// <summary>Builds the record from tag/value pairs of a header, header2 or EWF2 case-data object.</summary>
    internal static EwfCaseInfo FromTags(IReadOnlyDictionary<string, string> v)
    {
        string? Get(params string[] keys)
        {
            foreach (var k in keys)
                if (v.TryGetValue(k, out var s) && s.Length > 0) return s;
            return null;
        }
        return new EwfCaseInfo
        {
            CaseNumber = Get("c", "cn"),
            Description = Get("a", "nm"),
            ExaminerName = Get("e", "ex"),
            EvidenceNumber = Get("n", "en"),
            Notes = Get("t", "nt"),
            AcquisitionDate = FormatDate(Get("m", "tt")),
            SystemDate = FormatDate(Get("u", "at")),
            AcquisitionSystem = Get("ov", "os"),
            SoftwareVersion = Get("av"),
            Model = Get("md"),
            SerialNumber = Get("sn"),
            DeviceLabel = Get("l", "lb"),
        };
    }

    /// <summary>
    /// Turns a stored date into ISO 8601: POSIX seconds (header2, linen, EWF2: UTC) or EnCase's
    /// "yyyy M d h m s" (local time of the acquiring machine). Anything else is returned as stored.
    /// </summary>
    internal static string? FormatDate(string? value)
    {
        if (value is null) return null;
        if (value.All(char.IsAsciiDigit) && long.TryParse(value, CultureInfo.InvariantCulture, out long secs) && secs is >= 0 and < 253402300800)
            return DateTimeOffset.FromUnixTimeSeconds(secs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 6 && parts.All(p => p.All(char.IsAsciiDigit) && p.Length <= 4))
        {
            int[] n = [.. parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
            try { return new DateTime(n[0], n[1], n[2], n[3], n[4], n[5], DateTimeKind.Unspecified).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture); }
            catch (ArgumentOutOfRangeException) { return value; }
        }
        return value;
    }
}
