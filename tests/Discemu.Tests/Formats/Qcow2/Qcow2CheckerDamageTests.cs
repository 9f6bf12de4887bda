using Discemu.Formats;
using Discemu.Tests.Infrastructure;

namespace Discemu.Tests.Formats.Qcow2;

/// <summary>
/// Images damaged on purpose: our counters and exit code must equal qemu-img check's on the same file,
/// and after our repair qemu-img check must find the image clean.
/// </summary>
public sealed class Qcow2CheckerDamageTests
{
    private static readonly string[] Bases = ["default", "cluster512", "cluster2M", "compressed", "bitmaps", "refcount1", "refcount8", "refcount64", "extended_l2", "snapshots", "compat010"];

    private static readonly string[] Damages = ["bump", "zero", "copied", "eof", "stray", "reftable", "shared", "l2refcount"];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var b in Bases)
            foreach (var d in Damages)
                data.Add(b, d);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CountersMatchQemuAndRepairCleans(string kind, string damage)
    {
        using var dir = new TempDir();
        string img = QcowCheckImages.Make(dir, kind);
        if (!Damage(img, damage)) Assert.Skip($"Damage '{damage}' does not apply to '{kind}'.");

        var qemu = QemuCheck.Run(img);
        var ours = QcowCheckImages.Check(img, CheckRepair.None);
        string log = string.Join('\n', ours.Messages);
        Assert.True(qemu.ExitCode != 0, "the damage must be visible to qemu-img");
        Assert.True(qemu.ExitCode == ours.ExitCode, $"exit qemu={qemu.ExitCode} ours={ours.ExitCode}\n{log}");
        Assert.True(qemu.Count("corruptions") == ours.Corruptions, $"corruptions qemu={qemu.Count("corruptions")} ours={ours.Corruptions}\n{log}");
        Assert.True(qemu.Count("leaks") == ours.Leaks, $"leaks qemu={qemu.Count("leaks")} ours={ours.Leaks}\n{log}");
        Assert.Equal(qemu.Count("check-errors"), ours.CheckErrors);
        Assert.Equal(qemu.Get("image-end-offset"), ours.ImageEndOffset);
        Assert.Equal(qemu.Get("allocated-clusters"), ours.AllocatedClusters);

        // Leaks alone are repaired by -r leaks; anything else needs -r all.
        var mode = ours.Corruptions == 0 ? CheckRepair.Leaks : CheckRepair.All;
        var repaired = QcowCheckImages.Check(img, mode);
        string rlog = string.Join('\n', repaired.Messages);
        Assert.True(repaired.ExitCode == 0, $"after repair: exit {repaired.ExitCode}\n{rlog}");
        Assert.True(repaired.CorruptionsFixed + repaired.LeaksFixed > 0, rlog);
        var after = QemuCheck.Run(img);
        Assert.True(after.ExitCode == 0, $"qemu-img check after our repair exited {after.ExitCode}\n{rlog}");
        Assert.Equal(0, QcowCheckImages.Check(img, CheckRepair.None).ExitCode);
    }

    [Fact]
    public void LeakRepairRefusesToRebuild()
    {
        using var dir = new TempDir();
        string img = QcowCheckImages.Make(dir, "default");
        Assert.True(Damage(img, "zero"));
        var result = QcowCheckImages.Check(img, CheckRepair.Leaks);
        Assert.Equal(1, result.CheckErrors);
        Assert.Contains("ERROR need to rebuild refcount structures", result.Messages);
        Assert.Equal(2, QemuCheck.Run(img).ExitCode);
    }

    [Fact]
    public void MessagesUseQemuWording()
    {
        using var dir = new TempDir();
        string img = QcowCheckImages.Make(dir, "default");
        var layout = Qcow2FileLayout.Read(img);
        var (_, cluster) = layout.FirstDataEntry();
        layout.SetRefcount(cluster, 2);
        var result = QcowCheckImages.Check(img, CheckRepair.None);
        Assert.Contains($"Leaked cluster {cluster} refcount=2 reference=1", result.Messages);
        Assert.Contains(result.Messages, m => m.StartsWith("ERROR OFLAG_COPIED data cluster: l2_entry=", StringComparison.Ordinal));
    }

    /// <summary>Applies one kind of damage; false when it does not apply to this image.</summary>
    private static bool Damage(string img, string damage)
    {
        var layout = Qcow2FileLayout.Read(img);
        var (entryOffset, cluster) = layout.FirstDataEntry();
        switch (damage)
        {
            case "bump":
                if (layout.Header.RefcountBits < 2) return false;
                layout.SetRefcount(cluster, layout.GetRefcount(cluster) + 1);
                return true;
            case "zero":
                layout.SetRefcount(cluster, 0);
                return true;
            case "copied":
                layout.WriteU64(entryOffset, layout.ReadU64(entryOffset) ^ long.MinValue);
                return true;
            case "eof":
            {
                long past = (new FileInfo(img).Length / layout.ClusterSize + 64) * layout.ClusterSize;
                layout.WriteU64(layout.L2EntryOffset(3), long.MinValue | past);
                return true;
            }
            case "stray":
            {
                long length = new FileInfo(img).Length;
                long next = (length + layout.ClusterSize - 1) / layout.ClusterSize;
                var junk = new byte[layout.ClusterSize];
                junk.AsSpan().Fill(0x55);
                layout.Write(next * layout.ClusterSize, junk);
                try { layout.SetRefcount(next, 1); }
                catch (InvalidOperationException) { return false; }
                return true;
            }
            case "reftable":
                layout.WriteU64(layout.Header.RefcountTableOffset, 0);
                return true;
            case "shared":
                // A cluster a snapshot shares has refcount 2; make it 1.
                if (layout.Header.SnapshotCount == 0 || layout.GetRefcount(cluster) != 2) return false;
                layout.SetRefcount(cluster, 1);
                return true;
            case "l2refcount":
            {
                long l2Cluster = (layout.L1Entry(0) & 0x00FFFFFFFFFFFE00L) / layout.ClusterSize;
                if (layout.Header.RefcountBits < 4) return false;
                layout.SetRefcount(l2Cluster, layout.GetRefcount(l2Cluster) + 2);
                return true;
            }
            default:
                throw new ArgumentException(damage);
        }
    }
}
