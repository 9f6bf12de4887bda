using System.Buffers.Binary;
using Discemu.Block;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

/// <summary>
/// Checks (and repairs) a QCOW2 image's metadata like <c>qemu-img check</c>: it counts every reference to
/// every host cluster (header, L1/L2 tables, data and compressed clusters, refcount structures, snapshots,
/// bitmaps), compares the counts with the stored refcounts and the COPIED flags, and reports corruptions
/// and leaks in qemu-img's wording. Works on the file directly, independent of the read/write driver.
/// </summary>
/// <remarks>
/// Memory is bounded by the file: the reference array has one entry per cluster of the file, and
/// every table read is capped by the format's limits. The walk has a work budget proportional to the
/// file size so crafted tables that point at the same L2 table over and over cannot make it hang.
/// </remarks>
internal static partial class Qcow2Checker
{
    /// <summary>Checks the image in <paramref name="file"/> and repairs what <paramref name="repair"/> allows.</summary>
    /// <param name="file">The image file; writable when <paramref name="repair"/> is not <see cref="CheckRepair.None"/>.</param>
    /// <param name="path">The file name for messages and errors.</param>
    /// <param name="repair">What to repair.</param>
    /// <exception cref="CorruptImageException">The header or a top-level table is too damaged to check.</exception>
    /// <exception cref="UnsupportedFeatureException">The image is too large to check in memory, or needs growing but cannot be resized.</exception>
    /// <exception cref="NotSupportedException">A repair was asked for but the file is read-only.</exception>
    public static ImageCheckResult Check(FileDevice file, string path, CheckRepair repair)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (repair != CheckRepair.None && !file.CanWrite) throw new NotSupportedException("Repairing needs the image opened for writing.");
        var first = new Run(file, path, repair, forceRebuild: false);
        first.Execute();
        var result = first.Result;
        if (repair == CheckRepair.None || result.CheckErrors > 0 || (result.CorruptionsFixed == 0 && result.LeaksFixed == 0))
            return result;

        // Like qemu-img: after repairing, check again read-only and report that check's counters
        // together with what was fixed.
        var again = new Run(file, path, CheckRepair.None, forceRebuild: false);
        again.Execute();
        var final = again.Result;
        final.CorruptionsFixed = result.CorruptionsFixed;
        final.LeaksFixed = result.LeaksFixed;
        final.Messages.InsertRange(0, result.Messages);
        return final;
    }

    /// <summary>
    /// Rebuilds the refcount table and blocks from the references the metadata makes, fixes COPIED flags
    /// and clears the dirty bit: what opening a lazy-refcounts image that was not closed cleanly needs.
    /// </summary>
    /// <exception cref="CorruptImageException">The metadata is too damaged to rebuild from.</exception>
    /// <exception cref="NotSupportedException">The file is read-only.</exception>
    internal static void RebuildRefcounts(FileDevice file, string path)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!file.CanWrite) throw new NotSupportedException("Rebuilding refcounts needs the image opened for writing.");
        var run = new Run(file, path, CheckRepair.All, forceRebuild: true);
        run.Execute();
    }

    /// <summary>One pass over the image: the state of a single check.</summary>
    private sealed partial class Run
    {
        private const int L1ChunkEntries = 4096;
        private const long MinWorkBudget = 1L << 28;

        private readonly FileDevice _file;
        private readonly string _path;
        private readonly CheckRepair _repair;
        private readonly bool _forceRebuild;
        private readonly Qcow2Header _h;
        private readonly List<Qcow2HeaderExtension> _extensions;
        private readonly int _clusterBits;
        private readonly long _clusterSize;
        private readonly ulong _maxRefcount;
        private readonly uint[] _refs;
        private readonly int _fileClusters;
        private readonly List<(long Offset, long Length)> _refcountStructures = [];
        private long _fileLength;
        private long _workBudget;
        private long _nextContiguous;
        private bool _rebuild;
        private int _walkCorruptions;
        private int _refblockCorruptions;
        private int _compareCorruptions;
        private int _compareLeaks;

        public Run(FileDevice file, string path, CheckRepair repair, bool forceRebuild)
        {
            _file = file;
            _path = path;
            _repair = repair;
            _forceRebuild = forceRebuild;
            _fileLength = file.Length;
            int probe = (int)Math.Min(_fileLength, 1L << MaxClusterBits);
            var head = new byte[probe];
            file.Read(0, head);
            _h = Qcow2Header.Read(head, path);
            _clusterBits = _h.ClusterBits;
            _clusterSize = _h.ClusterSize;
            _extensions = Qcow2HeaderExtension.ReadAll(head.AsSpan(0, (int)Math.Min(probe, _clusterSize)), _h, path);
            if (_h.CryptMethod == CryptAes) throw new UnsupportedFeatureException("Checking AES-encrypted QCOW2 images is not supported.", path);
            _maxRefcount = Qcow2Metadata.MaxRefcount(_h.RefcountOrder);
            long clusters = (_fileLength + _clusterSize - 1) >> _clusterBits;
            if (clusters + 1 > Array.MaxLength) throw new UnsupportedFeatureException($"The image has {clusters} clusters, too many to check in memory.", path);
            _fileClusters = (int)clusters;
            _refs = new uint[clusters + 1];
            _workBudget = MinWorkBudget + 2 * _fileLength;
            if (_h.Size > 0 && _h.L1Size < RequiredL1Entries())
                throw new CorruptImageException($"The L1 table of {_h.L1Size} entries is too small for the virtual size.", path);
        }

        public ImageCheckResult Result { get; } = new();

        private int L2EntrySize => _h.ExtendedL2 ? 16 : 8;

        private long RequiredL1Entries()
        {
            long clusters = (_h.Size + _clusterSize - 1) >> _clusterBits;
            long perL2 = _clusterSize / L2EntrySize;
            return (clusters + perL2 - 1) / perL2;
        }

        public void Execute()
        {
            Result.TotalClusters = (_h.Size + _clusterSize - 1) >> _clusterBits;
            Result.AllocatedClusters = 0;
            Result.FragmentedClusters = 0;
            Result.CompressedClusters = 0;
            CountReferences();
            LoadRefcountTable();
            if (_forceRebuild)
            {
                RebuildRefcountStructure();
            }
            else
            {
                CompareRefcounts(fix: false);
                if (_rebuild && _repair == CheckRepair.All)
                {
                    Message("Rebuilding refcount structure");
                    RebuildRefcountStructure();
                    Result.CorruptionsFixed += _refblockCorruptions + _compareCorruptions;
                    Result.LeaksFixed += _compareLeaks;
                    _refblockCorruptions = _compareCorruptions = _compareLeaks = 0;
                }
                else if (_rebuild && _repair != CheckRepair.None)
                {
                    Message("ERROR need to rebuild refcount structures");
                    Result.CheckErrors++;
                    Publish();
                    return;
                }
                else if (_repair != CheckRepair.None && (_compareCorruptions > 0 || _compareLeaks > 0))
                {
                    _compareCorruptions = _compareLeaks = 0;
                    CompareRefcounts(fix: true);
                }
            }
            CheckCopiedFlags();
            Publish();
            if (_repair != CheckRepair.None && Result.Corruptions == 0 && Result.CheckErrors == 0) MarkClean(IncompatDirty | IncompatCorrupt);
            else if (_forceRebuild) MarkClean(IncompatDirty);
        }

        private void Publish()
        {
            Result.Corruptions = _walkCorruptions + _refblockCorruptions + _compareCorruptions + _copiedCorruptions;
            Result.Leaks = _compareLeaks;
        }

        private void Message(string text) => Result.Messages.Add(text);

        private void Corruption(string text)
        {
            Message(text);
            _walkCorruptions++;
        }

        /// <summary>Reads <paramref name="buffer"/> at <paramref name="offset"/>; bytes past the end of the file read as zeros.</summary>
        private void ReadClamped(long offset, Span<byte> buffer)
        {
            long available = Math.Clamp(_fileLength - offset, 0, buffer.Length);
            if (available > 0) _file.Read(offset, buffer[..(int)available]);
            buffer[(int)available..].Clear();
        }

        /// <summary>Counts one reference to every cluster the byte range touches; false when it lies past the end of the file.</summary>
        private bool AddReference(long offset, long length)
        {
            if (length <= 0) return true;
            long end = offset + length;
            if (end > _fileLength && end - _fileLength >= _clusterSize)
            {
                Corruption($"ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset 0x{offset:x} size 0x{length:x}");
                return false;
            }
            for (long c = offset >> _clusterBits, last = (end - 1) >> _clusterBits; c <= last; c++)
            {
                uint v = _refs[c];
                if (v >= _maxRefcount || v == uint.MaxValue)
                {
                    Corruption($"ERROR: overflow cluster offset=0x{c << _clusterBits:x}");
                    continue;
                }
                _refs[c] = v + 1;
            }
            return true;
        }

        /// <summary>Writes the 64-bit big-endian <paramref name="value"/> at <paramref name="offset"/> of the file.</summary>
        private void WriteUInt64(long offset, ulong value)
        {
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(b, value);
            _file.Write(offset, b);
        }

        /// <summary>Clears the given incompatible-feature <paramref name="bits"/> (dirty, corrupt) after a successful repair.</summary>
        private void MarkClean(ulong bits)
        {
            if (_h.Version < 3 || (_h.IncompatibleFeatures & bits) == 0) return;
            _file.Flush();
            WriteUInt64(IncompatibleFeaturesOffset, _h.IncompatibleFeatures & ~bits);
            _file.Flush();
        }

        private const int IncompatibleFeaturesOffset = 72;
        private const int RefcountTableFieldsOffset = 48;
    }
}
