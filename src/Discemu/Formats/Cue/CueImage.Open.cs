using System.Text;
using Discemu.Block;

namespace Discemu.Formats.Cue;

public sealed partial class CueImage
{
    /// <summary>Opens a CUE sheet and its files, or a bare .bin of raw 2352-byte sectors, read-only.</summary>
    internal static CueImage Open(ImageOpenRequest request)
    {
        string path = request.Path;
        if (request.Writable) throw new UnsupportedFeatureException("BIN/CUE images are read-only in Discemu: they cannot be opened for writing.", path);
        byte[] head = ReadHead(path, out long length);
        if (CueFormat.IsRawSectorStart(head, length))
        {
            string mode = head[15] == 1 ? "MODE1/2352" : "MODE2/2352";
            var bare = Encoding.ASCII.GetBytes($"FILE \"{System.IO.Path.GetFileName(path)}\" BINARY\nTRACK 01 {mode}\nINDEX 01 00:00:00\n");
            return Load(path, CueSheet.Parse(bare, path), [System.IO.Path.GetFullPath(path)], bareBin: true);
        }
        if (length > CdConstants.MaxSheetBytes) throw new CorruptImageException($"The CUE sheet is larger than {CdConstants.MaxSheetBytes} bytes.", path);
        byte[] text;
        try { text = File.ReadAllBytes(path); }
        catch (IOException e) { throw new ImageAccessException(e.Message, path, e); }
        catch (UnauthorizedAccessException e) { throw new ImageAccessException("Permission denied.", path, e); }
        var sheet = CueSheet.Parse(text, path);
        var resolved = sheet.Files.Select(f => Resolve(path, f.Name)).ToArray();
        return Load(path, sheet, resolved, bareBin: false);
    }

    private static byte[] ReadHead(string path, out long length)
    {
        var head = new byte[CdConstants.HeaderEnd];
        try
        {
            using var handle = FileDevice.OpenHandle(path, FileMode.Open, writable: false);
            length = RandomAccess.GetLength(handle);
            int n = RandomAccess.Read(handle, head, 0);
            return head.AsSpan(0, n).ToArray();
        }
        catch (IOException e) { throw new ImageAccessException(e.Message, path, e); }
        catch (UnauthorizedAccessException e) { throw new ImageAccessException("Permission denied.", path, e); }
    }

    private static CueImage Load(string path, CueSheet sheet, string[] filePaths, bool bareBin)
    {
        var opened = new List<BlockDevice>();
        try
        {
            var lengths = new long[filePaths.Length];
            for (int i = 0; i < filePaths.Length; i++)
            {
                BlockDevice file = FileDevice.Open(filePaths[i], writable: false);
                opened.Add(file);
                if (sheet.Files[i].Type == CueFileType.Wave)
                {
                    var (offset, dataLength) = WaveFile.FindData(file, filePaths[i]);
                    file = new SubRangeDevice(file, offset, dataLength, ownsInner: true);
                    opened[^1] = file;
                }
                lengths[i] = file.Length;
            }
            var tracks = sheet.Layout(lengths, path);
            return new CueImage(path, sheet, [.. opened], filePaths, tracks, bareBin);
        }
        catch
        {
            foreach (var f in opened) f.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Finds a FILE named by the sheet: relative to the sheet's folder (a Windows separator counts as one), then
    /// ignoring case, then by its bare name next to the sheet (sheets written on another machine).
    /// </summary>
    /// <exception cref="ImageAccessException">No such file; the message names the path looked for.</exception>
    internal static string Resolve(string sheetPath, string name)
    {
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(sheetPath)) ?? ".";
        string normalized = System.IO.Path.DirectorySeparatorChar == '/' ? name.Replace('\\', '/') : name;
        string candidate;
        try { candidate = System.IO.Path.GetFullPath(System.IO.Path.IsPathRooted(normalized) ? normalized : System.IO.Path.Combine(dir, normalized)); }
        catch (ArgumentException e) { throw new ImageAccessException($"The CUE sheet's FILE name '{name}' is not a valid path.", sheetPath, e); }
        if (File.Exists(candidate)) return candidate;
        string leaf = System.IO.Path.GetFileName(candidate);
        if (FindIgnoringCase(System.IO.Path.GetDirectoryName(candidate), leaf) is { } found) return found;
        if (FindIgnoringCase(dir, leaf) is { } nearby) return nearby;
        throw new ImageAccessException($"The file '{name}' named by the CUE sheet does not exist (looked for {candidate}).", candidate);
    }

    private static string? FindIgnoringCase(string? folder, string leaf)
    {
        if (string.IsNullOrEmpty(folder) || leaf.Length == 0 || !Directory.Exists(folder)) return null;
        try
        {
            foreach (var f in Directory.EnumerateFiles(folder))
                if (string.Equals(System.IO.Path.GetFileName(f), leaf, StringComparison.OrdinalIgnoreCase)) return f;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
