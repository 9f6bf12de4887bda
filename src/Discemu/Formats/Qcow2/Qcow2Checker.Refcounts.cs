using System.Buffers.Binary;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

internal static partial class Qcow2Checker
{
    private sealed partial class Run
    {
        private ulong[] _refcountTable = [];
        private byte[]? _block;
        private long _blockIndex = -1;

        private long RefcountsPerBlock => (_clusterSize * 8) >> _h.RefcountOrder;

        /// <summary>Reads the refcount table, counts it and the refcount blocks, and validates each block pointer.</summary>
        private void LoadRefcountTable()
        {
            long tableBytes = (long)_h.RefcountTableClusters << _clusterBits;
            if (AddReference(_h.RefcountTableOffset, tableBytes)) _refcountStructures.Add((_h.RefcountTableOffset, tableBytes));
            var raw = new byte[tableBytes];
            ReadClamped(_h.RefcountTableOffset, raw);
            _refcountTable = new ulong[tableBytes / 8];
            for (int i = 0; i < _refcountTable.Length; i++)
                _refcountTable[i] = BinaryPrimitives.ReadUInt64BigEndian(raw.AsSpan(i * 8));
            for (int i = 0; i < _refcountTable.Length; i++)
            {
                ulong entry = _refcountTable[i];
                if ((entry & Qcow2Metadata.RefcountTableReservedMask) != 0)
                {
                    RefblockError($"ERROR refcount table entry {i} has reserved bits set");
                    continue;
                }
                ulong offset = entry & RefcountTableOffsetMask;
                if (offset == 0) continue;
                if ((offset & (ulong)(_clusterSize - 1)) != 0)
                {
                    RefblockError($"ERROR refcount block {i} is not cluster aligned; refcount table entry corrupted");
                    continue;
                }
                if (offset >> _clusterBits >= (ulong)_fileClusters)
                {
                    RefblockError($"ERROR refcount block {i} is outside image");
                    continue;
                }
                AddReference((long)offset, _clusterSize);
                _refcountStructures.Add(((long)offset, _clusterSize));
                uint refs = _refs[offset >> _clusterBits];
                if (refs != 1) RefblockError($"ERROR refcount block {i} refcount={refs}");
            }
        }

        private void RefblockError(string text)
        {
            Message(text);
            _refblockCorruptions++;
            _rebuild = true;
        }

        /// <summary>The stored refcount of a cluster, or null when its refcount block cannot be read.</summary>
        private ulong? StoredRefcount(long cluster)
        {
            long index = cluster / RefcountsPerBlock;
            if (index >= _refcountTable.Length) return 0;
            ulong offset = _refcountTable[index] & RefcountTableOffsetMask;
            if (offset == 0) return 0;
            if ((offset & (ulong)(_clusterSize - 1)) != 0) return null;
            if (offset > (ulong)MaxHostOffset || (long)offset >= _fileLength) return 0;
            if (_blockIndex != index)
            {
                _block ??= new byte[_clusterSize];
                ReadClamped((long)offset, _block);
                _blockIndex = index;
            }
            return Qcow2Metadata.GetRefcount(_block!, cluster % RefcountsPerBlock, _h.RefcountOrder);
        }

        /// <summary>Stores a refcount in its existing refcount block; false when there is no valid block.</summary>
        private bool SetStoredRefcount(long cluster, ulong value)
        {
            if (StoredRefcount(cluster) is null) return false;
            long index = cluster / RefcountsPerBlock;
            if (index >= _refcountTable.Length) return false;
            long offset = (long)(_refcountTable[index] & RefcountTableOffsetMask);
            if (offset == 0 || offset + _clusterSize > _fileLength) return false;
            long slot = cluster % RefcountsPerBlock;
            Qcow2Metadata.SetRefcount(_block!, slot, _h.RefcountOrder, value);
            var (at, length) = Qcow2Metadata.RefcountBytes(slot, _h.RefcountOrder);
            _file.Write(offset + at, _block.AsSpan(at, length));
            return true;
        }

        /// <summary>Compares stored refcounts with the references counted; with <paramref name="fix"/> repairs what the mode allows.</summary>
        private void CompareRefcounts(bool fix)
        {
            long highest = -1;
            for (long i = 0; i < _refs.LongLength; i++)
            {
                ulong reference = _refs[i];
                if (i >= _fileClusters && reference == 0) continue;
                ulong? read = StoredRefcount(i);
                if (read is null)
                {
                    Message($"Can't get refcount for cluster {i}: refcount block is not cluster aligned");
                    Result.CheckErrors++;
                    continue;
                }
                ulong stored = read.Value;
                ulong after = stored;
                if (stored != reference)
                {
                    bool repair = false;
                    if (stored == 0) _rebuild = true;
                    else if (fix && stored > reference && (_repair & CheckRepair.Leaks) != 0) repair = true;
                    else if (fix && stored < reference && _repair == CheckRepair.All && reference <= _maxRefcount) repair = true;
                    string word = repair ? "Repairing" : stored < reference ? "ERROR" : "Leaked";
                    Message($"{word} cluster {i} refcount={stored} reference={reference}");
                    if (repair && SetStoredRefcount(i, reference))
                    {
                        after = reference;
                        if (stored > reference) Result.LeaksFixed++;
                        else Result.CorruptionsFixed++;
                    }
                    else if (stored < reference) _compareCorruptions++;
                    else _compareLeaks++;
                }
                if (after > 0 || reference > 0) highest = i;
            }
            Result.ImageEndOffset = (highest + 1) * _clusterSize;
        }

        /// <summary>
        /// Writes a new refcount table and blocks after the end of the file from the references counted,
        /// then points the header at them: the old structures are simply no longer used.
        /// </summary>
        private void RebuildRefcountStructure()
        {
            foreach (var (offset, length) in _refcountStructures)
                for (long c = offset >> _clusterBits, last = (offset + length - 1) >> _clusterBits; c <= last; c++)
                    if (_refs[c] > 0) _refs[c]--;

            long start = _refs[_fileClusters] > 0 ? _fileClusters + 1L : _fileClusters;
            long perBlock = RefcountsPerBlock, perTable = _clusterSize / 8;
            long blocks = 0, table = 0;
            while (true)
            {
                long total = start + blocks + table;
                long needBlocks = (total + perBlock - 1) / perBlock;
                long needTable = (needBlocks + perTable - 1) / perTable;
                if (needBlocks == blocks && needTable == table) break;
                blocks = needBlocks;
                table = needTable;
            }
            if (table * _clusterSize > MaxRefcountTableBytes)
                throw new UnsupportedFeatureException("The rebuilt refcount table would exceed 8 MiB.", _path);
            long newEnd = (start + blocks + table) * _clusterSize;
            if (newEnd > _file.Length)
            {
                if ((_file.Capabilities & Block.DeviceCapabilities.Resize) == 0)
                    throw new UnsupportedFeatureException("Rebuilding the refcounts needs a file that can grow.", _path);
                _file.Resize(newEnd);
            }

            long usedEnd = start + blocks + table;
            var block = new byte[_clusterSize];
            for (long b = 0; b < blocks; b++)
            {
                Array.Clear(block);
                for (long k = 0; k < perBlock; k++)
                {
                    long c = b * perBlock + k;
                    if (c >= usedEnd) break;
                    ulong v = c < _refs.LongLength ? _refs[c] : 0;
                    if (c >= start) v = 1;
                    if (v > _maxRefcount) v = _maxRefcount;
                    if (v != 0) Qcow2Metadata.SetRefcount(block, k, _h.RefcountOrder, v);
                }
                _file.Write((start + b) * _clusterSize, block);
            }
            var newTable = new ulong[table * perTable];
            var tableBytes = new byte[table * _clusterSize];
            for (long b = 0; b < blocks; b++)
            {
                newTable[b] = (ulong)((start + b) * _clusterSize);
                BinaryPrimitives.WriteUInt64BigEndian(tableBytes.AsSpan((int)(b * 8)), newTable[b]);
            }
            long tableOffset = (start + blocks) * _clusterSize;
            _file.Write(tableOffset, tableBytes);
            _file.Flush();

            // Switch to the new structures with one write of the two adjacent header fields.
            Span<byte> fields = stackalloc byte[12];
            BinaryPrimitives.WriteUInt64BigEndian(fields, (ulong)tableOffset);
            BinaryPrimitives.WriteUInt32BigEndian(fields[8..], (uint)table);
            _file.Write(RefcountTableFieldsOffset, fields);
            _file.Flush();

            _refcountTable = newTable;
            _blockIndex = -1;
            _fileLength = newEnd;
            _rebuild = false;
        }
    }
}
