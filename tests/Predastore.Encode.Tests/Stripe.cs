using Predastore.Encode;

namespace Predastore.Encode.Tests;

/// <summary>A stripe of K data cells and M parity cells, plus a pristine copy to compare reconstructions against.</summary>
internal sealed class Stripe
{
    private readonly byte[][] _original;

    public Stripe(ReedSolomon code, int length, Random random, int offset = 0)
    {
        Shards = new Memory<byte>[code.TotalShards];
        for (int i = 0; i < Shards.Length; i++)
        {
            // Sliced at an offset so the shards are not vector-aligned.
            var array = new byte[length + offset + 5];
            random.NextBytes(array);
            Shards[i] = array.AsMemory(offset, length);
        }

        Data = Shards[..code.DataShards].Select(m => (ReadOnlyMemory<byte>)m).ToArray();
        Parity = Shards[code.DataShards..];
        code.Encode(Data, Parity);
        _original = Shards.Select(m => m.ToArray()).ToArray();
    }

    public Memory<byte>[] Shards { get; }

    public ReadOnlyMemory<byte>[] Data { get; }

    public Memory<byte>[] Parity { get; }

    public byte[] Original(int shard) => _original[shard];

    /// <summary>Overwrites the erased shards with a fill byte and returns the present flags.</summary>
    public bool[] Erase(IEnumerable<int> erased, byte fill = 0xEE)
    {
        var present = Enumerable.Repeat(true, Shards.Length).ToArray();
        foreach (int shard in erased)
        {
            Shards[shard].Span.Fill(fill);
            present[shard] = false;
        }

        return present;
    }
}
