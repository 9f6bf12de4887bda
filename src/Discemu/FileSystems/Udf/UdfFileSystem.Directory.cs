using System.Buffers.Binary;
using System.Text;
using static Discemu.FileSystems.Udf.UdfConstants;

namespace Discemu.FileSystems.Udf;

internal sealed partial class UdfFileSystem
{
    private const int FidFixedSize = 38;

    /// <summary>Reads a directory's file identifier descriptors (ECMA-167 4/14.4) into entries.</summary>
    private List<FileSystemEntry> ReadDirectory(UdfEntry dir)
    {
        var chain = dir.Chain ?? new UdfDirectoryChain(dir.Node.Address, null);
        if (chain.Depth > MaxPathDepth) throw new CorruptImageException($"The directory tree is deeper than {MaxPathDepth} levels.", DisplayPath);
        var data = ReadContent(dir.Node, MaxDirectoryBytes, "directory");
        var entries = new List<FileSystemEntry>();
        for (int pos = 0; pos + FidFixedSize <= data.Length;)
        {
            var fid = data.AsSpan(pos);
            if (!UdfTag.TryRead(fid[..FidFixedSize], null, out var tag) || tag.Identifier != TagFileIdentifier)
            {
                if (fid[..UdfConstants.TagSize].IndexOfAnyExcept((byte)0) < 0) break; // zero padding ends the directory
                throw new CorruptImageException($"Directory '{dir.Name}' has a damaged file identifier descriptor at byte {pos}.", DisplayPath);
            }
            byte characteristics = fid[18];
            int nameLength = fid[19];
            var icb = UdfLongAd.Read(fid[20..]);
            int implUse = BinaryPrimitives.ReadUInt16LittleEndian(fid[36..]);
            int length = (FidFixedSize + implUse + nameLength + 3) & ~3;
            if (FidFixedSize + implUse + nameLength > fid.Length)
                throw new CorruptImageException($"A file identifier descriptor of directory '{dir.Name}' runs past its end.", DisplayPath);
            if (tag.CrcLength > FidFixedSize - UdfConstants.TagSize && UdfConstants.TagSize + tag.CrcLength <= fid.Length
                && UdfCrc.Compute(fid.Slice(UdfConstants.TagSize, tag.CrcLength)) != BinaryPrimitives.ReadUInt16LittleEndian(fid[8..]))
                throw new CorruptImageException($"A file identifier descriptor of directory '{dir.Name}' fails its CRC.", DisplayPath);
            pos += length;
            if ((characteristics & (FidParent | FidDeleted)) != 0 || icb.Length == 0) continue;
            var name = DecodeName(fid.Slice(FidFixedSize + implUse, nameLength));
            entries.Add(MakeEntry(name, characteristics, new UdfIcbAddress(icb.Partition, icb.Block), chain));
        }
        return entries;
    }

    private static string DecodeName(ReadOnlySpan<byte> identifier)
    {
        string? name = UdfText.DecodeCs0(identifier);
        if (name is null) return "_" + Convert.ToHexString(identifier);
        return name.Length == 0 ? "_" : name;
    }

    private UdfEntry MakeEntry(string name, byte characteristics, UdfIcbAddress address, UdfDirectoryChain parent)
    {
        var node = ReadNode(address);
        var kind = node.FileType switch
        {
            FileTypeDirectory => FileSystemEntryKind.Directory,
            FileTypeSymlink => FileSystemEntryKind.Symlink,
            FileTypeBlockDevice or FileTypeCharDevice or FileTypeFifo or FileTypeSocket or FileTypeStreamDirectory => FileSystemEntryKind.Other,
            _ => FileSystemEntryKind.File,
        };
        if (kind == FileSystemEntryKind.Directory && parent.Contains(node.Address))
            throw new CorruptImageException($"Directory '{name}' ({node.Address}) loops back onto a directory above it.", DisplayPath);
        string? target = kind == FileSystemEntryKind.Symlink ? SymlinkTarget(node) : null;
        return EntryFor(node, name, kind, kind == FileSystemEntryKind.Directory ? new UdfDirectoryChain(node.Address, parent) : null, target,
            (characteristics & FidHidden) != 0 ? FileAttributes.Hidden : FileAttributes.Normal);
    }

    /// <summary>The entry for <paramref name="node"/>: its times, owner, mode and links as the ICB records them.</summary>
    private UdfEntry EntryFor(UdfNode node, string name, FileSystemEntryKind kind, UdfDirectoryChain? chain, string? target, FileAttributes attributes) => new()
    {
        Owner = this,
        Node = node,
        Name = name,
        Kind = kind,
        Size = target is null ? (long)node.Size : Encoding.UTF8.GetByteCount(target),
        Chain = chain,
        Identity = node.Address,
        Inode = node.UniqueId,
        Modified = node.Modified,
        Accessed = node.Accessed,
        Created = node.Created,
        Changed = node.Changed,
        Mode = node.Mode,
        Uid = node.Uid == uint.MaxValue ? null : node.Uid,
        Gid = node.Gid == uint.MaxValue ? null : node.Gid,
        Links = node.Links,
        SymlinkTarget = target,
        Attributes = attributes,
    };

    /// <summary>A symbolic link's target from its path components (ECMA-167 4/14.16).</summary>
    private string SymlinkTarget(UdfNode node)
    {
        var data = ReadContent(node, MaxSymlinkBytes, "symbolic link");
        var sb = new StringBuilder();
        for (int pos = 0; pos < data.Length;)
        {
            if (pos + 4 > data.Length) throw new CorruptImageException($"The symbolic link at {node.Address} has a truncated path component.", DisplayPath);
            int type = data[pos], length = data[pos + 1];
            if (pos + 4 + length > data.Length) throw new CorruptImageException($"A path component of the symbolic link at {node.Address} runs past its end.", DisplayPath);
            var id = data.AsSpan(pos + 4, length);
            pos += 4 + length;
            string part = type switch
            {
                1 or 2 => "/", // the root (1: as the system sees it, 2: of this volume)
                3 => "..",
                4 => ".",
                5 => UdfText.DecodeCs0(id) ?? throw new CorruptImageException($"A path component of the symbolic link at {node.Address} has an unknown compression id.", DisplayPath),
                _ => throw new CorruptImageException($"The symbolic link at {node.Address} has a path component of unknown type {type}.", DisplayPath),
            };
            if (part == "/") { sb.Clear(); sb.Append('/'); continue; }
            if (sb.Length > 0 && sb[^1] != '/') sb.Append('/');
            sb.Append(part);
        }
        return sb.ToString();
    }
}
