using Discemu.Block;
using static Discemu.FileSystems.Iso9660.IsoConstants;

namespace Discemu.FileSystems.Iso9660;

/// <summary>One session of a multi-session image: where its volume descriptors start and how many blocks it spans.</summary>
internal readonly record struct IsoSession(int Index, long StartBlock, long Blocks);

/// <summary>
/// Finds the sessions of an image file. A single-session image has one session at block 0. Multi-session
/// images written by libisoburn (xorriso <c>-dev</c> growing an image file, or overwritable media) keep the
/// "emulated table of contents" this reads: the first session starts at block 32, each session's own
/// volume descriptors are at its start + 16 and record the session's size as the volume space size, the
/// next session starts at the following 32-block boundary, and the descriptors at block 16 are a copy of
/// the newest session's (with the volume space size of the whole image). A chain is accepted only when
/// every session's root directory lies inside that session and the newest session's root is the one the
/// block-16 copy names, so an ISO image stored as a file inside another is not mistaken for a session.
/// </summary>
internal static class IsoSessions
{
    /// <summary>The sessions, oldest first.</summary>
    /// <exception cref="CorruptImageException">There is no primary volume descriptor at block 16.</exception>
    public static List<IsoSession> Find(BlockDevice device, string? path)
    {
        var top = ReadPrimary(device, VolumeDescriptorStart, path)
                  ?? throw new CorruptImageException("No ISO 9660 primary volume descriptor at block 16.", path);
        long sectors = device.Length / SectorSize;
        var sessions = new List<IsoSession>();
        long start = EmulatedSessionAlignment;
        while (start + VolumeDescriptorStart < sectors && sessions.Count < MaxSessions)
        {
            IsoVolumeDescriptor? vd;
            try { vd = ReadPrimary(device, start + VolumeDescriptorStart, path); }
            catch (CorruptImageException) { vd = null; }
            if (vd is not { } d || d.VolumeSpaceSize == 0) break;
            long root = d.Root.Extent;
            if (root < start || root >= start + d.VolumeSpaceSize) break; // not a session: its tree is not inside it
            sessions.Add(new IsoSession(sessions.Count + 1, start, d.VolumeSpaceSize));
            long next = (start + d.VolumeSpaceSize + EmulatedSessionAlignment - 1) / EmulatedSessionAlignment * EmulatedSessionAlignment;
            if (next >= top.VolumeSpaceSize) break; // the block-16 copy bounds the chain
            start = next;
        }
        if (sessions.Count > 0)
        {
            var last = ReadPrimary(device, sessions[^1].StartBlock + VolumeDescriptorStart, path)!.Value;
            if (last.Root.Extent == top.Root.Extent) return sessions;
        }
        return [new IsoSession(1, 0, top.VolumeSpaceSize)];
    }

    /// <summary>The first primary volume descriptor of the set at <paramref name="block"/>, or null when the set has none.</summary>
    private static IsoVolumeDescriptor? ReadPrimary(BlockDevice device, long block, string? path)
    {
        var sector = new byte[SectorSize];
        for (int i = 0; i < MaxVolumeDescriptors; i++)
        {
            long offset = (block + i) * SectorSize;
            if (offset + SectorSize > device.Length) return null;
            device.Read(offset, sector);
            if (!IsoVolumeDescriptor.HasHeader(sector) || sector[0] == VdTerminator) return null;
            if (sector[0] == VdPrimary) return IsoVolumeDescriptor.Read(sector, path);
        }
        return null;
    }
}
