namespace Predastore.Metadata;

/// <summary>
/// An extent no manifest references any more; its shards are to be deleted, then the entry released.
/// </summary>
/// <param name="Id">Increasing with age, never reused.</param>
/// <param name="Bucket">The bucket the extent was written for.</param>
/// <param name="Key">The key the extent was written for: with <paramref name="Bucket"/> it gives the object hash of
/// its shard keys (object hash ‖ data id ‖ shard index).</param>
/// <param name="Extent">The extent whose shards are to be deleted.</param>
public sealed record GarbageEntry(long Id, string Bucket, string Key, Extent Extent);
