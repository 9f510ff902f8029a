using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace Predastore.Server;

/// <summary>
/// Kestrel's memory pool with 64 KiB blocks instead of 4 KiB: with
/// <c>WaitForDataBeforeAllocatingBuffer = false</c> each socket receive fills a whole block, so a large upload
/// costs a sixteenth of the receive calls (MEASURED.md: about half the CPU per byte on this machine kind).
/// </summary>
internal sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public const int BlockSize = 64 * 1024;

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
}

/// <summary>Pinned 64 KiB blocks, kept for reuse up to a bound so an idle server gives memory back to the GC.</summary>
internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    // Enough for many connections' in-flight receives; beyond it, returned blocks are left to the GC.
    private const int MaxRetained = 512;

    private readonly ConcurrentQueue<byte[]> _blocks = new();
    private int _retained;
    private bool _disposed;

    public override int MaxBufferSize => LargeBlockMemoryPoolFactory.BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (minBufferSize > MaxBufferSize)
        {
            return new Block(this, GC.AllocateUninitializedArray<byte>(minBufferSize, pinned: true), pooled: false);
        }

        if (_blocks.TryDequeue(out byte[]? array))
        {
            Interlocked.Decrement(ref _retained);
            return new Block(this, array, pooled: true);
        }

        return new Block(this, GC.AllocateUninitializedArray<byte>(MaxBufferSize, pinned: true), pooled: true);
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _blocks.Clear();
    }

    private void Return(byte[] array)
    {
        if (!_disposed && Interlocked.Increment(ref _retained) <= MaxRetained)
        {
            _blocks.Enqueue(array);
        }
        else
        {
            Interlocked.Decrement(ref _retained);
        }
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly LargeBlockMemoryPool _pool;
        private readonly bool _pooled;
        private byte[]? _array;

        public Block(LargeBlockMemoryPool pool, byte[] array, bool pooled)
        {
            _pool = pool;
            _array = array;
            _pooled = pooled;
            Memory = MemoryMarshal.CreateFromPinnedArray(array, 0, array.Length);
        }

        public Memory<byte> Memory { get; }

        public void Dispose()
        {
            byte[]? returned = Interlocked.Exchange(ref _array, null);
            if (returned is not null && _pooled)
            {
                _pool.Return(returned);
            }
        }
    }
}
