namespace Predastore.Metadata;

/// <summary>
/// One run of object bytes written under its own data id: a single PUT has one, a multipart object one per part.
/// </summary>
/// <param name="DataId">The fresh random id the shards of this extent were written under.</param>
/// <param name="Size">Bytes of object data in this extent.</param>
/// <param name="Placement"><c>Placement[i]</c> is the node id holding shard index <c>i</c> (K data + M parity).</param>
public sealed record Extent(Guid DataId, long Size, IReadOnlyList<int> Placement)
{
    /// <summary>The multipart part this extent was uploaded as; 0 for a single PUT.</summary>
    public int PartNumber { get; init; }
}
