using System.Buffers.Binary;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

internal static partial class Qcow2Checker
{
    private sealed partial class Run
    {
        /// <summary>Counts the references every metadata structure makes, except the refcount blocks (counted with the table).</summary>
        private void CountReferences()
        {
            AddReference(0, _clusterSize);
            WalkL1(_h.L1TableOffset, _h.L1Size, active: true);
            WalkSnapshots();
            CountExtensions();
        }

        private void WalkL1(long l1Offset, uint l1Size, bool active)
        {
            long bytes = (long)l1Size * 8;
            if (bytes == 0) return;
            AddReference(l1Offset, bytes);
            var chunk = new byte[Math.Min(l1Size, L1ChunkEntries) * 8];
            var l2 = new byte[_clusterSize];
            for (long first = 0; first < l1Size; first += L1ChunkEntries)
            {
                int count = (int)Math.Min(L1ChunkEntries, l1Size - first);
                var span = chunk.AsSpan(0, count * 8);
                ReadClamped(l1Offset + first * 8, span);
                for (int i = 0; i < count; i++)
                {
                    ulong entry = BinaryPrimitives.ReadUInt64BigEndian(span[(i * 8)..]);
                    long l2Offset = (long)(entry & L1OffsetMask);
                    if (l2Offset == 0) continue;
                    if ((l2Offset & (_clusterSize - 1)) != 0)
                    {
                        Corruption($"ERROR l2_offset={l2Offset:x}: Table is not cluster aligned; L1 entry corrupted");
                        continue;
                    }
                    if (!AddReference(l2Offset, _clusterSize)) continue;
                    WalkL2(l2Offset, l2, active);
                }
            }
        }

        private void WalkL2(long l2Offset, byte[] table, bool active)
        {
            int entrySize = L2EntrySize;
            int entries = (int)(_clusterSize / entrySize);
            _workBudget -= entries;
            if (_workBudget < 0)
                throw new CorruptImageException("The L1/L2 tables reference more L2 tables than the file can hold; the metadata loops.", _path);
            ReadClamped(l2Offset, table);
            _nextContiguous = 0; // like qemu, contiguity is judged within one L2 table
            for (int i = 0; i < entries; i++)
            {
                long entryOffset = l2Offset + (long)i * entrySize;
                ulong entry = BinaryPrimitives.ReadUInt64BigEndian(table.AsSpan(i * entrySize));
                ulong bitmap = entrySize == 16 ? BinaryPrimitives.ReadUInt64BigEndian(table.AsSpan(i * entrySize + 8)) : 0;
                if ((entry & EntryCompressed) != 0) CheckCompressed(entryOffset, entry, bitmap, active);
                else CheckStandard(entryOffset, entry, bitmap, active);
            }
        }

        private void CheckCompressed(long entryOffset, ulong entry, ulong bitmap, bool active)
        {
            if ((entry & EntryCopied) != 0)
            {
                var (offset, _) = Qcow2Metadata.CompressedRange(entry, _clusterBits);
                if (FixWalkError($"ERROR: coffset=0x{offset:x}: copied flag must never be set for compressed clusters"))
                    WriteUInt64(entryOffset, entry & ~EntryCopied);
                entry &= ~EntryCopied;
            }
            if (_h.ExtendedL2 && bitmap != 0)
            {
                if (FixWalkError($"ERROR compressed cluster with non-zero subcluster allocation bitmap, entry=0x{entry:x}"))
                    WriteUInt64(entryOffset + 8, 0);
            }
            var (start, length) = Qcow2Metadata.CompressedRange(entry, _clusterBits);
            if (active)
            {
                Result.AllocatedClusters++;
                Result.CompressedClusters++;
                // Compressed clusters share sectors with their neighbours: always counted as fragmented.
                Result.FragmentedClusters++;
            }
            AddReference(start, length);
        }

        private void CheckStandard(long entryOffset, ulong entry, ulong bitmap, bool active)
        {
            long hostOffset = (long)(entry & L2OffsetMask);
            uint allocated = (uint)bitmap, zero = (uint)(bitmap >> 32);
            if (hostOffset == 0)
            {
                if (_h.ExtendedL2 && allocated != 0)
                    Corruption("ERROR: Unallocated cluster has non-zero subcluster allocation map");
                return;
            }
            if ((hostOffset & (_clusterSize - 1)) != 0)
            {
                Corruption($"ERROR offset={hostOffset:x}: Cluster is not properly aligned; L2 entry corrupted");
                return;
            }
            if (_h.ExtendedL2 && (allocated & zero) != 0)
                Corruption($"ERROR offset={hostOffset:x}: Allocated cluster has corrupted subcluster allocation bitmap");
            if (active)
            {
                Result.AllocatedClusters++;
                if (_nextContiguous != 0 && hostOffset != _nextContiguous) Result.FragmentedClusters++;
                _nextContiguous = hostOffset + _clusterSize;
            }
            if (AddReference(hostOffset, _clusterSize) || _repair != CheckRepair.All) return;

            // The cluster lies past the end of the file: its data is gone. Make the entry read as zeros.
            Message($"Repairing offset={hostOffset:x}: cluster is beyond the end of the file; L2 entry cleared");
            _walkCorruptions--;
            Result.CorruptionsFixed++;
            if (_h.ExtendedL2)
            {
                WriteUInt64(entryOffset, 0);
                WriteUInt64(entryOffset + 8, 0xFFFFFFFFUL << 32);
            }
            else WriteUInt64(entryOffset, _h.Version >= 3 ? EntryZero : 0);
        }

        /// <summary>Reports a walk error; under full repair counts it as fixed and returns true so the caller writes the fix.</summary>
        private bool FixWalkError(string error)
        {
            if (_repair != CheckRepair.All)
            {
                Corruption(error);
                return false;
            }
            Message(error.Replace("ERROR", "Repairing", StringComparison.Ordinal));
            Result.CorruptionsFixed++;
            return true;
        }

        private void WalkSnapshots()
        {
            if (_h.SnapshotCount == 0) return;
            long offset = _h.SnapshotsOffset;
            long pos = offset;
            Span<byte> fixedPart = stackalloc byte[Qcow2Metadata.SnapshotEntryFixedLength];
            var snapshots = new List<Qcow2SnapshotEntry>();
            for (uint i = 0; i < _h.SnapshotCount; i++)
            {
                if (pos + Qcow2Metadata.SnapshotEntryFixedLength > _fileLength)
                    throw new CorruptImageException("The snapshot table extends past the end of the file.", _path);
                _file.Read(pos, fixedPart);
                int length = Qcow2SnapshotEntry.DiskLengthOf(fixedPart, _path);
                // The last entry's padding to 8 bytes may lie past the end of the file (qemu does not extend the file for it).
                long available = _fileLength - pos;
                if (length - available >= 8 || pos + length - offset > Qcow2Metadata.MaxSnapshotTableBytes)
                    throw new CorruptImageException("The snapshot table extends past the end of the file or is too large.", _path);
                var entry = new byte[length];
                _file.Read(pos, entry.AsSpan(0, (int)Math.Min(length, available)));
                snapshots.Add(Qcow2SnapshotEntry.Read(entry, _path));
                pos += length;
            }
            AddReference(offset, pos - offset);
            foreach (var s in snapshots)
            {
                if (s.L1Offset < 0 || (s.L1Offset & (_clusterSize - 1)) != 0)
                {
                    Corruption($"ERROR snapshot {s.Id} ({s.Name}) l1_offset={s.L1Offset:x}: L1 table is not cluster aligned; snapshot table entry corrupted");
                    continue;
                }
                if (s.L1Size > MaxL1Entries)
                {
                    Corruption($"ERROR snapshot {s.Id} ({s.Name}) l1_size={s.L1Size}: L1 table is too large; snapshot table entry corrupted");
                    continue;
                }
                WalkL1(s.L1Offset, s.L1Size, active: false);
            }
        }

        /// <summary>Counts the clusters header extensions own: the bitmap directory and tables, and the LUKS header.</summary>
        private void CountExtensions()
        {
            foreach (var ext in _extensions)
            {
                if (ext.Type == ExtFullDiskEncryption && ext.Data.Length >= Qcow2Metadata.EncryptionExtensionLength)
                {
                    ulong offset = BinaryPrimitives.ReadUInt64BigEndian(ext.Data);
                    ulong length = BinaryPrimitives.ReadUInt64BigEndian(ext.Data.AsSpan(8));
                    if (offset <= (ulong)MaxHostOffset && length <= (ulong)MaxHostOffset) AddReference((long)offset, (long)length);
                }
                else if (ext.Type == ExtBitmaps && (_h.AutoclearFeatures & AutoclearBitmaps) != 0
                         && ext.Data.Length >= Qcow2Metadata.BitmapsExtensionLength)
                {
                    CountBitmaps(ext.Data);
                }
            }
        }

        private void CountBitmaps(byte[] ext)
        {
            uint count = BinaryPrimitives.ReadUInt32BigEndian(ext);
            ulong dirSize = BinaryPrimitives.ReadUInt64BigEndian(ext.AsSpan(8));
            ulong dirOffset = BinaryPrimitives.ReadUInt64BigEndian(ext.AsSpan(16));
            if (dirSize > (ulong)Qcow2Metadata.MaxBitmapDirectoryBytes || dirOffset > (ulong)MaxHostOffset
                || (long)dirOffset + (long)dirSize > _fileLength)
            {
                Corruption($"ERROR bitmap directory at 0x{dirOffset:x} of {dirSize} bytes is invalid");
                return;
            }
            AddReference((long)dirOffset, (long)dirSize);
            var dir = new byte[dirSize];
            _file.Read((long)dirOffset, dir);
            int pos = 0;
            for (uint i = 0; i < count; i++)
            {
                var entry = Qcow2BitmapEntry.Read(dir.AsSpan(pos));
                if (entry is null)
                {
                    Corruption("ERROR bitmap directory entry is truncated");
                    return;
                }
                pos += entry.Value.DiskLength;
                CountBitmapTable(entry.Value);
            }
        }

        private void CountBitmapTable(Qcow2BitmapEntry entry)
        {
            long bytes = (long)entry.TableSize * 8;
            if ((entry.TableOffset & (_clusterSize - 1)) != 0 || entry.TableOffset + bytes > _fileLength
                || bytes > Qcow2Metadata.MaxBitmapDirectoryBytes)
            {
                Corruption($"ERROR bitmap table at 0x{entry.TableOffset:x} is invalid");
                return;
            }
            if (bytes == 0) return;
            AddReference(entry.TableOffset, bytes);
            var table = new byte[bytes];
            _file.Read(entry.TableOffset, table);
            _workBudget -= entry.TableSize;
            if (_workBudget < 0) throw new CorruptImageException("The bitmap tables are larger than the file can hold.", _path);
            for (int i = 0; i < entry.TableSize; i++)
            {
                long offset = (long)(BinaryPrimitives.ReadUInt64BigEndian(table.AsSpan(i * 8)) & Qcow2Metadata.BitmapTableOffsetMask);
                if (offset == 0) continue;
                if ((offset & (_clusterSize - 1)) != 0) Corruption($"ERROR bitmap data cluster offset=0x{offset:x} is not cluster aligned");
                else AddReference(offset, _clusterSize);
            }
        }
    }
}
