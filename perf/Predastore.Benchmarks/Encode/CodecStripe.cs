using System.Runtime.InteropServices;
using Predastore.Encode;

namespace Predastore.Benchmarks.Encode;

/// <summary>
/// The buffers every codec benchmark of one shape shares: K + M cells, 64-byte aligned in pinned arrays (so ISA-L
/// gets stable pointers to the very bytes our codec reads), filled once and reused so they stay warm.
/// </summary>
internal sealed unsafe class CodecStripe : IDisposable
{
    private readonly byte[][] _arrays;
    private readonly nint* _pointers;

    public CodecStripe(CodecCase shape)
    {
        Shape = shape;
        int total = shape.DataShards + shape.ParityShards;
        _arrays = new byte[total][];
        Shards = new Memory<byte>[total];
        _pointers = (nint*)NativeMemory.Alloc((nuint)total, (nuint)sizeof(nint));
        var random = new Random(shape.GetHashCode());
        for (int i = 0; i < total; i++)
        {
            _arrays[i] = GC.AllocateUninitializedArray<byte>(shape.CellBytes + 64, pinned: true);
            fixed (byte* start = _arrays[i])
            {
                int offset = (int)((64 - ((nint)start & 63)) & 63);
                Shards[i] = _arrays[i].AsMemory(offset, shape.CellBytes);
                _pointers[i] = (nint)start + offset;
            }

            // Fresh memory is slow the first time it is touched on these VMs: filling it is the warm-up.
            random.NextBytes(Shards[i].Span);
        }

        Data = [.. Shards[..shape.DataShards].Select(m => (ReadOnlyMemory<byte>)m)];
        Parity = Shards[shape.DataShards..];
    }

    public CodecCase Shape { get; }

    public Memory<byte>[] Shards { get; }

    public ReadOnlyMemory<byte>[] Data { get; }

    public Memory<byte>[] Parity { get; }

    /// <summary>Pointer to shard i's cell; the arrays are pinned for the stripe's lifetime.</summary>
    public byte* Pointer(int shard) => (byte*)_pointers[shard];

    /// <summary>Every data shard's bytes, to check a reconstruction against.</summary>
    public byte[][] SnapshotData() => [.. Data.Select(d => d.ToArray())];

    public void CheckData(byte[][] expected, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (!expected[i].AsSpan().SequenceEqual(Data[i].Span))
            {
                throw new InvalidOperationException($"{what} on {Shape}: data shard {i} differs.");
            }
        }
    }

    public void Dispose() => NativeMemory.Free(_pointers);
}

/// <summary>ISA-L's side of one shape: encode tables, and decode tables for one pattern of lost data shards.</summary>
internal sealed unsafe class IsaLCodec : IDisposable
{
    private readonly CodecStripe _stripe;
    private readonly int _k;
    private readonly byte* _encodeTables;
    private readonly byte** _data;
    private readonly byte** _parity;
    private byte* _decodeTables;
    private byte** _sources;
    private byte** _lost;
    private int _lostCount;

    public IsaLCodec(CodecStripe stripe)
    {
        IsaL.EnsureLoaded();
        _stripe = stripe;
        _k = stripe.Shape.DataShards;
        int m = stripe.Shape.ParityShards;
        _encodeTables = (byte*)NativeMemory.AlignedAlloc((nuint)(_k * m * 32), 64);
        fixed (byte* matrix = GfMatrix.SystematicCauchy(_k, m))
        {
            IsaL.InitTables(_k, m, matrix + (_k * _k), _encodeTables);
        }

        _data = (byte**)NativeMemory.Alloc((nuint)_k, (nuint)sizeof(byte*));
        _parity = (byte**)NativeMemory.Alloc((nuint)Math.Max(m, 1), (nuint)sizeof(byte*));
        for (int i = 0; i < _k; i++)
        {
            _data[i] = stripe.Pointer(i);
        }

        for (int p = 0; p < m; p++)
        {
            _parity[p] = stripe.Pointer(_k + p);
        }
    }

    public void Encode() => IsaL.EncodeData(_stripe.Shape.CellBytes, _k, _stripe.Shape.ParityShards, _encodeTables, _data, _parity);

    public void EncodeAvx2() =>
        IsaL.EncodeDataAvx2(_stripe.Shape.CellBytes, _k, _stripe.Shape.ParityShards, _encodeTables, _data, _parity);

    /// <summary>
    /// Caches the decode tables for losing data shards [0, lost), as ISA-L's own examples do: the first K surviving
    /// shards' rows of the encoding matrix, inverted; the inverse's rows for the lost shards rebuild them.
    /// </summary>
    public void PrepareReconstruct(int lost)
    {
        byte[] matrix = GfMatrix.SystematicCauchy(_k, _stripe.Shape.ParityShards);
        byte* selected = stackalloc byte[_k * _k];
        byte* inverse = stackalloc byte[_k * _k];
        _sources = (byte**)NativeMemory.Alloc((nuint)_k, (nuint)sizeof(byte*));
        _lost = (byte**)NativeMemory.Alloc((nuint)lost, (nuint)sizeof(byte*));
        for (int r = 0; r < _k; r++)
        {
            int shard = lost + r;
            _sources[r] = _stripe.Pointer(shard);
            matrix.AsSpan(shard * _k, _k).CopyTo(new Span<byte>(selected + (r * _k), _k));
        }

        if (IsaL.InvertMatrix(selected, inverse, _k) != 0)
        {
            throw new InvalidOperationException("ISA-L found the decode matrix singular.");
        }

        for (int i = 0; i < lost; i++)
        {
            _lost[i] = _stripe.Pointer(i);
        }

        _lostCount = lost;
        _decodeTables = (byte*)NativeMemory.AlignedAlloc((nuint)(_k * lost * 32), 64);
        IsaL.InitTables(_k, lost, inverse, _decodeTables);
    }

    public void Reconstruct() => IsaL.EncodeData(_stripe.Shape.CellBytes, _k, _lostCount, _decodeTables, _sources, _lost);

    public void Dispose()
    {
        NativeMemory.AlignedFree(_encodeTables);
        NativeMemory.AlignedFree(_decodeTables);
        NativeMemory.Free(_data);
        NativeMemory.Free(_parity);
        NativeMemory.Free(_sources);
        NativeMemory.Free(_lost);
    }
}

/// <summary>Our codec on a stripe: encode, and data-only reconstruction of data shards [0, lost).</summary>
internal sealed class OurCodec
{
    private readonly CodecStripe _stripe;
    private readonly ReedSolomon _code;
    private bool[] _present = [];

    public OurCodec(CodecStripe stripe, ReedSolomon code)
    {
        _stripe = stripe;
        _code = code;
    }

    public void Encode() => _code.Encode(_stripe.Data, _stripe.Parity);

    public void PrepareReconstruct(int lost)
    {
        _present = [.. Enumerable.Range(0, _stripe.Shards.Length).Select(i => i >= lost)];
        Reconstruct(); // builds and caches the decode plan outside the measurement
    }

    public void Reconstruct() => _code.Reconstruct(_stripe.Shards, _present, dataOnly: true);
}
