using Discemu.Fuzz;
using SharpFuzz;

// Usage:
//   Discemu.Fuzz <target>                  AFL mode (run under afl-fuzz after `sharpfuzz` instrumentation)
//   Discemu.Fuzz <target> --libfuzzer     libFuzzer mode (run under libfuzzer-dotnet)
//   Discemu.Fuzz <target> --replay DIR    run every file in DIR once, no fuzzer; exit 1 if any input fails
//   Discemu.Fuzz --make-corpus DIR        write the seed corpus to DIR/<target>/
if (args.Length == 2 && args[0] == "--make-corpus")
{
    foreach (var (target, name, data) in FuzzSeeds.All())
    {
        Directory.CreateDirectory(Path.Combine(args[1], target));
        File.WriteAllBytes(Path.Combine(args[1], target, name), data);
    }
    Console.WriteLine($"Wrote the seed corpus to {args[1]}.");
    return 0;
}
if (args.Length == 0 || !FuzzTargets.All.ContainsKey(args[0]))
{
    Console.Error.WriteLine($"usage: Discemu.Fuzz <{string.Join('|', FuzzTargets.All.Keys)}> [--libfuzzer | --replay DIR]");
    Console.Error.WriteLine("       Discemu.Fuzz --make-corpus DIR");
    return 2;
}
string targetName = args[0];
var run = FuzzTargets.All[targetName];
switch (args.Length > 1 ? args[1] : null)
{
    case "--replay" when args.Length == 3:
        return FuzzTargets.Replay(targetName, args[2], Console.Out) == 0 ? 0 : 1;
    case "--libfuzzer":
        Fuzzer.LibFuzzer.Run(span => run(span));
        return 0;
    case null:
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            run(ms.GetBuffer().AsSpan(0, (int)ms.Length));
        });
        return 0;
    default:
        Console.Error.WriteLine("Unknown mode; expected --libfuzzer or --replay DIR.");
        return 2;
}
