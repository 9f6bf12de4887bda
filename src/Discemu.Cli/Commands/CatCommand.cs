using System.Buffers;
using System.CommandLine;
using Discemu.FileSystems;

namespace Discemu.Cli.Commands;

/// <summary><c>cat IMAGE:/path</c>: writes a file's content to standard output.</summary>
internal static class CatCommand
{
    private const int Chunk = 1 << 20;

    public static Command Build(CliContext ctx)
    {
        var common = new FsCommon();
        var target = CommonOptions.File("IMAGE:/path");
        var cmd = new Command("cat", "Write a file from the file system in an image to standard output") { target };
        common.AddTo(cmd);
        cmd.SetAction(parse => ctx.Guard(() =>
        {
            var arg = ImagePathArgument.Parse(parse.GetValue(target)!);
            using var opened = common.Open(ctx, parse, arg);
            var entry = opened.FileSystem.Lookup(arg.InnerPath);
            if (entry.Kind != FileSystemEntryKind.File)
                throw new BadArgumentException(entry.IsDirectory ? "Is a directory." : "Not a regular file.", opened.FileSystem.DescribePath(arg.InnerPath));
            using var content = opened.FileSystem.OpenFile(entry);
            var output = ctx.OpenBinaryOut();
            byte[] buffer = ArrayPool<byte>.Shared.Rent(Chunk);
            try
            {
                for (long pos = 0; pos < content.Length;)
                {
                    int n = (int)Math.Min(Chunk, content.Length - pos);
                    content.Read(pos, buffer.AsSpan(0, n));
                    output.Write(buffer, 0, n);
                    pos += n;
                }
                output.Flush();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            return 0;
        }, file: parse.GetValue(target)));
        return cmd;
    }
}
