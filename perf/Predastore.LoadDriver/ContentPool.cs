using System.IO.Hashing;
using System.Net;
using System.Text;

namespace Predastore.LoadDriver;

/// <summary>
/// Object content without storing objects: every object is a window, starting at an offset derived from its key,
/// into one pool of random bytes read cyclically. A PUT streams slices of the pool (no copy, no per-object buffer);
/// a ranged GET is checked against the same window; a full GET against the hash recorded while the PUT was sent.
/// Two objects only share content if their keys hash to the same offset, so a read served from the wrong object fails.
/// </summary>
internal sealed class ContentPool
{
    /// <summary>16 MiB plus one prime-ish tail so windows of 2^n-sized objects do not line up with each other.</summary>
    public const int Size = 16 * 1024 * 1024 + 4093;

    private readonly byte[] _pool;

    public ContentPool(int seed)
    {
        _pool = GC.AllocateUninitializedArray<byte>(Size, pinned: true);
        new Random(seed).NextBytes(_pool);
    }

    public int StartOf(string key) => (int)(XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(key)) % Size);

    /// <summary>Calls <paramref name="slice"/> with consecutive pieces of the object's bytes [position, position + length).</summary>
    public void Walk(int start, long position, long length, Action<ReadOnlyMemory<byte>> slice)
    {
        foreach (ReadOnlyMemory<byte> piece in Slices(start, position, length))
        {
            slice(piece);
        }
    }

    public IEnumerable<ReadOnlyMemory<byte>> Slices(int start, long position, long length)
    {
        long offset = (start + position) % Size;
        while (length > 0)
        {
            int n = (int)Math.Min(length, Size - offset);
            yield return _pool.AsMemory((int)offset, n);
            length -= n;
            offset = 0;
        }
    }

    /// <summary>XxHash128 of the object's bytes [position, position + length): what a correct read must hash to.</summary>
    public UInt128 Hash(int start, long position, long length)
    {
        var hash = new XxHash128();
        foreach (ReadOnlyMemory<byte> piece in Slices(start, position, length))
        {
            hash.Append(piece.Span);
        }

        return hash.GetCurrentHashAsUInt128();
    }
}

/// <summary>A request body streamed from the pool; hashes what it sends.</summary>
internal sealed class PoolContent : HttpContent
{
    private const int MaxWrite = 1024 * 1024;
    private readonly ContentPool _pool;
    private readonly int _start;
    private readonly long _position;
    private readonly long _length;

    public PoolContent(ContentPool pool, int start, long position, long length)
    {
        _pool = pool;
        _start = start;
        _position = position;
        _length = length;
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
    }

    /// <summary>XxHash128 of the bytes sent, once the body has been sent.</summary>
    public UInt128 SentHash { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var hash = new XxHash128();
        foreach (ReadOnlyMemory<byte> slice in _pool.Slices(_start, _position, _length))
        {
            for (int i = 0; i < slice.Length; i += MaxWrite)
            {
                ReadOnlyMemory<byte> piece = slice.Slice(i, Math.Min(MaxWrite, slice.Length - i));
                hash.Append(piece.Span);
                await stream.WriteAsync(piece, cancellationToken).ConfigureAwait(false);
            }
        }

        SentHash = hash.GetCurrentHashAsUInt128();
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
