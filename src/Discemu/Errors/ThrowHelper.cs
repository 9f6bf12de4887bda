using System.Diagnostics.CodeAnalysis;

namespace Discemu;

/// <summary>Throw helpers so hot paths stay small and callers read as checks.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void Corrupt(string message, string? path = null) => throw new CorruptImageException(message, path);

    [DoesNotReturn]
    public static T Corrupt<T>(string message, string? path = null) => throw new CorruptImageException(message, path);

    [DoesNotReturn]
    public static void Unsupported(string message, string? path = null) => throw new UnsupportedFeatureException(message, path);

    [DoesNotReturn]
    public static void BadArgument(string message, string? path = null) => throw new BadArgumentException(message, path);

    [DoesNotReturn]
    public static void ReadOnly() => throw new NotSupportedException("The device is read-only.");
}
