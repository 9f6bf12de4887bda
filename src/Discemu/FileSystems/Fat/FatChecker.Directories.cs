using System.Text;
using static Discemu.FileSystems.Fat.FatConstants;

namespace Discemu.FileSystems.Fat;

public static partial class FatChecker
{
    private sealed partial class Run
    {
        private const string BadNameChars = "\"*+,./:;<=>?[\\]|";

        /// <summary>A directory waiting to be read: its first cluster (0 = the fixed root), path and parent's cluster.</summary>
        private readonly record struct PendingDir(uint Cluster, string Path, uint Parent, int Depth, bool IsRoot);

        private void WalkDirectories()
        {
            var stack = new Stack<PendingDir>();
            bool fat32 = boot.Type == FatType.Fat32;
            if (fat32)
            {
                int id = NewOwner("/");
                if (ClaimChain(boot.RootCluster, id, "/", out _, MaxDirectoryBytes / boot.ClusterSize)) stack.Push(new PendingDir(boot.RootCluster, "/", 0, 0, true));
            }
            else stack.Push(new PendingDir(0, "/", 0, 0, true));
            while (stack.Count > 0)
            {
                var dir = stack.Pop();
                byte[] data = ReadDirectory(dir);
                ScanDirectory(dir, data, stack);
            }
        }

        private int NewOwner(string path)
        {
            _owners.Add(path);
            return _owners.Count - 1;
        }

        private byte[] ReadDirectory(PendingDir dir)
        {
            int bps = boot.BytesPerSector;
            if (dir.Cluster == 0)
            {
                var root = new byte[checked((int)(boot.RootDirSectors * bps))];
                volume.Read(boot.RootDirStartSector * bps, root);
                return root;
            }
            // The chain was claimed (and checked) before the directory was queued; follow it up to the size limit.
            var clusters = new List<uint>();
            uint c = dir.Cluster;
            int id = _owner[c];
            while (_fat.IsCluster(c) && _owner[c] == id && clusters.Count * (long)boot.ClusterSize < MaxDirectoryBytes)
            {
                clusters.Add(c);
                uint next = _fat[c];
                if (!_fat.IsCluster(next) || clusters.Contains(next)) break;
                c = next;
            }
            var data = new byte[clusters.Count * boot.ClusterSize];
            for (int i = 0; i < clusters.Count; i++) volume.Read(ClusterOffset(clusters[i]), data.AsSpan(i * boot.ClusterSize, boot.ClusterSize));
            return data;
        }

        private long ClusterOffset(uint cluster) => (boot.FirstDataSector + (long)(cluster - FirstCluster) * boot.SectorsPerCluster) * boot.BytesPerSector;

        private void ScanDirectory(PendingDir dir, byte[] data, Stack<PendingDir> stack)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            int lfnExpected = 0;      // the next sequence number a long-name run needs (0: none pending)
            byte lfnChecksum = 0;
            int labels = 0;
            int count = data.Length / DirEntrySize;
            for (int i = 0; i < count; i++)
            {
                var raw = data.AsSpan(i * DirEntrySize, DirEntrySize);
                if (raw[0] == EndMarker) break;
                string where = $"{dir.Path} entry {i}";
                if (raw[0] == DeletedMarker)
                {
                    if (lfnExpected != 0) Error($"{where}: an orphaned long-name part precedes a deleted entry.");
                    lfnExpected = 0;
                    continue;
                }
                if (FatLfnEntry.TryRead(raw, out var lfn))
                {
                    if (lfn.IsLast)
                    {
                        if (lfnExpected != 0) Error($"{where}: an orphaned long-name part (a new name starts before the previous one ended).");
                        if (lfn.Sequence is 0 or > MaxLfnEntries) { Error($"{where}: a long-name part has sequence {lfn.Sequence}."); lfnExpected = 0; continue; }
                        lfnExpected = lfn.Sequence - 1;
                        lfnChecksum = lfn.Checksum;
                        if (lfnExpected == 0) lfnExpected = -1; // complete: a short entry must follow
                    }
                    else if (lfnExpected <= 0 || lfn.Sequence != lfnExpected || lfn.Checksum != lfnChecksum)
                    {
                        Error($"{where}: an orphaned long-name part (sequence {lfn.Sequence}).");
                        lfnExpected = 0;
                    }
                    else lfnExpected = lfnExpected == 1 ? -1 : lfnExpected - 1;
                    continue;
                }
                var entry = FatDirectoryEntry.Read(raw);
                if (lfnExpected > 0) Error($"{where}: a long name is missing parts before its short entry.");
                else if (lfnExpected == -1 && FatLfnEntry.ShortNameChecksum(entry.Name) != lfnChecksum)
                    Error($"{where}: the long name's checksum does not match the short name '{Shown(entry.Name)}'.");
                lfnExpected = 0;
                if (entry.IsVolumeLabel)
                {
                    if (!dir.IsRoot) Error($"{where}: a volume label entry outside the root directory.");
                    else if (++labels > 1) Error($"{where}: a second volume label entry.");
                    if (entry.FirstCluster != 0 || entry.IsDirectory) Error($"{where}: the volume label entry has a cluster or the directory flag.");
                    continue;
                }
                CheckEntry(dir, i, where, entry, names, stack);
            }
            if (lfnExpected != 0) Error($"{dir.Path}: an orphaned long-name part at the end of the directory.");
            if (!dir.IsRoot && (count < 2 || !IsDot(data, 0, ".") || !IsDot(data, 1, "..")))
                Error($"{dir.Path}: the directory does not start with its \".\" and \"..\" entries.");
        }

        private static bool IsDot(byte[] data, int index, string name)
        {
            var n = data.AsSpan(index * DirEntrySize, ShortNameLength);
            return Encoding.ASCII.GetString(n).TrimEnd(' ') == name && (data[index * DirEntrySize + 11] & AttrDirectory) != 0;
        }

        private static string Shown(byte[] name) => Encoding.Latin1.GetString(name).Replace("\0", "\\0", StringComparison.Ordinal);

        private void CheckEntry(PendingDir dir, int index, string where, FatDirectoryEntry entry, HashSet<string> names, Stack<PendingDir> stack)
        {
            string key = Encoding.Latin1.GetString(entry.Name);
            if (entry.IsDotEntry && entry.Name.AsSpan(1).IndexOfAnyExcept((byte)' ', (byte)'.') < 0 && !dir.IsRoot)
            {
                CheckDot(dir, index, where, entry, key.TrimEnd(' '));
                return;
            }
            string path = dir.Path == "/" ? "/" + entry.DisplayShortName : dir.Path + "/" + entry.DisplayShortName;
            if (BadName(entry.Name) is { } why) Error($"{where}: bad short name '{Shown(entry.Name)}' ({why}).");
            if (!names.Add(key)) Error($"{path}: a duplicate directory entry.");
            uint first = entry.FirstCluster;
            if (boot.Type != FatType.Fat32 && first > 0xFFFF) first &= 0xFFFF;
            if (entry.IsDirectory)
            {
                if (entry.FileSize != 0) Error($"{path}: a directory with a non-zero size ({entry.FileSize}).");
                if (first == 0 || !_fat.IsCluster(first)) { Error($"{path}: a directory whose first cluster {first} is invalid."); return; }
                if (dir.Depth + 1 > MaxDepth) { result.CheckErrors++; Note($"{path}: directories nest deeper than {MaxDepth}; not followed."); return; }
                int id = NewOwner(path);
                if (ClaimChain(first, id, path, out _, MaxDirectoryBytes / boot.ClusterSize))
                    stack.Push(new PendingDir(first, path, dir.IsRoot ? 0 : dir.Cluster, dir.Depth + 1, false));
                return;
            }
            if (first == 0)
            {
                if (entry.FileSize != 0) Error($"{path}: size {entry.FileSize} but no clusters.");
                return;
            }
            if (!_fat.IsCluster(first)) { Error($"{path}: the first cluster {first} is outside 2..{_fat.MaxCluster}."); return; }
            int owner = NewOwner(path);
            long expected = ((long)entry.FileSize + boot.ClusterSize - 1) / boot.ClusterSize;
            if (ClaimChain(first, owner, path, out long length, long.MaxValue) && length != expected)
                Error($"{path}: the size is {entry.FileSize} bytes but the cluster chain holds {length * boot.ClusterSize} bytes.");
        }

        private void CheckDot(PendingDir dir, int index, string where, FatDirectoryEntry entry, string name)
        {
            uint want = name == "." ? dir.Cluster : dir.Parent;
            if (index > 1 || name is not ("." or "..")) { Error($"{where}: a misplaced \"{name}\" entry."); return; }
            if (!entry.IsDirectory) Error($"{where}: \"{name}\" is not a directory.");
            // ".." of a first-level directory is 0 (some writers store the FAT32 root cluster instead).
            bool ok = entry.FirstCluster == want || name == ".." && want == 0 && entry.FirstCluster == boot.RootCluster && boot.Type == FatType.Fat32;
            if (!ok) Error($"{dir.Path}: \"{name}\" points to cluster {entry.FirstCluster}, not {want}.");
        }

        private static string? BadName(byte[] name)
        {
            if (name[0] == ' ') return "starts with a space";
            for (int i = 0; i < ShortNameLength; i++)
            {
                byte b = name[i];
                if (i == 0 && b == E5Substitute) continue;
                if (b < 0x20 || b == 0x7F) return "control character";
                if (b < 0x80 && BadNameChars.Contains((char)b)) return $"'{(char)b}' is not allowed";
            }
            return null;
        }

        /// <summary>
        /// Follows a chain from <paramref name="first"/>, claiming each cluster for <paramref name="id"/>. Reports a
        /// cross-link (a cluster another entry owns), a loop, a free or bad cluster in the chain, or a value out
        /// of range. Returns false when the chain is broken in a way that stops it being read as a directory.
        /// </summary>
        private bool ClaimChain(uint first, int id, string path, out long length, long maxClusters)
        {
            length = 0;
            uint c = first;
            while (true)
            {
                if (_owner[c] == id) { Error($"{path}: the cluster chain loops back to cluster {c}."); return false; }
                if (_owner[c] != 0) { Error($"{path} and {_owners[_owner[c]]} are cross-linked at cluster {c}."); return false; }
                _owner[c] = id;
                length++;
                uint next = _fat[c];
                if (_fat.IsEnd(next)) return true;
                if (next == 0) { Error($"{path}: the cluster chain runs into free cluster {c}."); return false; }
                if (_fat.IsBad(next)) { Error($"{path}: the cluster chain contains a bad cluster after {c}."); return false; }
                if (!_fat.IsCluster(next))
                {
                    if (!_reportedRange.Contains(c)) Error($"{path}: cluster {c} points to {next}, out of range.");
                    return false;
                }
                if (length >= maxClusters) { Error($"{path}: the directory is larger than {MaxDirectoryBytes} bytes."); return false; }
                if (next != c + 1) _fragmented++;
                c = next;
            }
        }
    }
}
