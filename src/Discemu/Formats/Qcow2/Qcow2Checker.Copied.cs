using System.Buffers.Binary;
using static Discemu.Formats.Qcow2.Qcow2Constants;

namespace Discemu.Formats.Qcow2;

internal static partial class Qcow2Checker
{
    private sealed partial class Run
    {
        private int _copiedCorruptions;

        /// <summary>
        /// Checks that the active L1 and L2 entries carry the COPIED flag exactly when the stored refcount of
        /// what they point to is 1 (after any refcount repair); under full repair, rewrites the flags.
        /// </summary>
        private void CheckCopiedFlags()
        {
            uint l1Size = _h.L1Size;
            if (l1Size == 0) return;
            bool fix = _repair == CheckRepair.All;
            var chunk = new byte[Math.Min(l1Size, L1ChunkEntries) * 8];
            var table = new byte[_clusterSize];
            int entrySize = L2EntrySize;
            for (long first = 0; first < l1Size; first += L1ChunkEntries)
            {
                int count = (int)Math.Min(L1ChunkEntries, l1Size - first);
                var span = chunk.AsSpan(0, count * 8);
                ReadClamped(_h.L1TableOffset + first * 8, span);
                for (int i = 0; i < count; i++)
                {
                    long index = first + i;
                    ulong entry = BinaryPrimitives.ReadUInt64BigEndian(span[(i * 8)..]);
                    long l2Offset = (long)(entry & L1OffsetMask);
                    if (l2Offset == 0 || (l2Offset & (_clusterSize - 1)) != 0 || l2Offset + _clusterSize > _fileLength) continue;
                    ulong? refcount = StoredRefcount(l2Offset >> _clusterBits);
                    if (refcount is null) continue;
                    bool want = refcount == 1;
                    if (want != ((entry & EntryCopied) != 0))
                    {
                        Message($"{(fix ? "Repairing" : "ERROR")} OFLAG_COPIED L2 cluster: l1_index={index} l1_entry={entry:x} refcount={refcount}");
                        if (fix)
                        {
                            long at = _h.L1TableOffset + index * 8;
                            if (at + 8 <= _fileLength)
                            {
                                WriteUInt64(at, want ? entry | EntryCopied : entry & ~EntryCopied);
                                Result.CorruptionsFixed++;
                            }
                            else _copiedCorruptions++;
                        }
                        else _copiedCorruptions++;
                    }
                    CheckCopiedInL2(l2Offset, table, entrySize, fix);
                }
            }
        }

        private void CheckCopiedInL2(long l2Offset, byte[] table, int entrySize, bool fix)
        {
            _file.Read(l2Offset, table);
            bool changed = false;
            for (int j = 0; j < table.Length; j += entrySize)
            {
                ulong entry = BinaryPrimitives.ReadUInt64BigEndian(table.AsSpan(j));
                if ((entry & EntryCompressed) != 0) continue;
                long hostOffset = (long)(entry & L2OffsetMask);
                if (hostOffset == 0 || (hostOffset & (_clusterSize - 1)) != 0) continue;
                ulong? refcount = StoredRefcount(hostOffset >> _clusterBits);
                if (refcount is null) continue;
                bool want = refcount == 1;
                if (want == ((entry & EntryCopied) != 0)) continue;
                Message($"{(fix ? "Repairing" : "ERROR")} OFLAG_COPIED data cluster: l2_entry={entry:x} refcount={refcount}");
                if (fix)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(table.AsSpan(j), want ? entry | EntryCopied : entry & ~EntryCopied);
                    changed = true;
                    Result.CorruptionsFixed++;
                }
                else _copiedCorruptions++;
            }
            if (changed) _file.Write(l2Offset, table);
        }
    }
}
