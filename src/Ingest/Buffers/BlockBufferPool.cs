using Microsoft.Extensions.ObjectPool;

namespace Predastore.Ingest.Buffers;

/// <summary>
/// Fixed-size pinned buffers for stripes and read-ahead blocks. Every buffer in flight is counted, so tests can
/// assert that a finished, failed or cancelled request gave back everything it rented.
/// </summary>
internal sealed class BlockBufferPool
{
    private readonly ObjectPool<byte[]> _pool;
    private long _outstanding;

    public BlockBufferPool(int bufferSize, int maximumRetained)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        BufferSize = bufferSize;
        _pool = new DefaultObjectPool<byte[]>(new PinnedArrayPolicy(bufferSize), maximumRetained);
    }

    public int BufferSize { get; }

    /// <summary>Buffers rented and not yet returned.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    public BlockBuffer Rent() => Rent(BufferSize);

    /// <summary>
    /// A buffer of at least <paramref name="minimumSize"/> bytes. Objects written under a larger stripe layout than
    /// the current one get a one-off array; the pool only keeps buffers of its own size.
    /// </summary>
    public BlockBuffer Rent(int minimumSize)
    {
        Interlocked.Increment(ref _outstanding);
        byte[] array = minimumSize <= BufferSize ? _pool.Get() : GC.AllocateUninitializedArray<byte>(minimumSize, pinned: true);
        return new BlockBuffer(this, array);
    }

    internal void Return(byte[] array)
    {
        _pool.Return(array);
        Interlocked.Decrement(ref _outstanding);
    }

    private sealed class PinnedArrayPolicy(int size) : PooledObjectPolicy<byte[]>
    {
        // Pinned so the WAL and sockets can hand the memory to the OS without the GC moving it.
        public override byte[] Create() => GC.AllocateUninitializedArray<byte>(size, pinned: true);

        public override bool Return(byte[] obj) => obj.Length == size;
    }
}

/// <summary>A rented buffer. Whoever holds it last disposes it; the array goes back to the pool exactly once.</summary>
internal sealed class BlockBuffer : IDisposable
{
    private readonly BlockBufferPool _pool;
    private byte[]? _array;

    internal BlockBuffer(BlockBufferPool pool, byte[] array)
    {
        _pool = pool;
        _array = array;
    }

    public byte[] Array => _array ?? throw new ObjectDisposedException(nameof(BlockBuffer));

    public Memory<byte> Memory => Array;

    public void Dispose()
    {
        byte[]? array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            _pool.Return(array);
        }
    }
}
