using System.Runtime.InteropServices;

namespace Discemu.Operations;

/// <summary>
/// A chunk of memory for bulk copies that starts on a page boundary. The kernel copies page-aligned
/// user buffers to and from the page cache markedly faster (about twice as fast for writes) than the
/// arbitrary alignment of a managed array's first element, so the buffer is a page-aligned window of
/// a pinned array: no native memory to free, and the GC never moves it.
/// </summary>
internal sealed class ChunkBuffer
{
    /// <summary>The alignment of <see cref="Span"/>'s first byte.</summary>
    public const int Alignment = 4096;

    private readonly byte[] _array;
    private readonly int _start;

    /// <summary>Allocates an uninitialized buffer of <paramref name="length"/> bytes.</summary>
    public ChunkBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        _array = GC.AllocateUninitializedArray<byte>(checked(length + Alignment - 1), pinned: true);
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(_array, 0);
        _start = (int)((Alignment - address % Alignment) % Alignment);
        Length = length;
    }

    /// <summary>The usable length in bytes.</summary>
    public int Length { get; }

    /// <summary>The whole buffer.</summary>
    public Span<byte> Span => _array.AsSpan(_start, Length);

    /// <summary>The whole buffer as memory (for handing a chunk to other threads).</summary>
    public Memory<byte> Memory => _array.AsMemory(_start, Length);

    /// <summary>A part of the buffer.</summary>
    public Span<byte> Slice(int start, int length) => Span.Slice(start, length);
}
