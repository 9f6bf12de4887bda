namespace Discemu.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("discemu: the command line is being built.");
        return args.Length == 0 ? 1 : 1;
    }
}
