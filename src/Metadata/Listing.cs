namespace Predastore.Metadata;

/// <summary>A ListObjects (V1 or V2) request.</summary>
/// <param name="Bucket">The bucket to list.</param>
/// <param name="Prefix">Only keys starting with this; null or empty for all.</param>
/// <param name="Delimiter">Keys with this after the prefix roll up into common prefixes; null or empty for none.</param>
/// <param name="StartAfter">
/// Exclusive: only entries (keys or common prefixes) that sort after it in UTF-8 byte order. A common prefix used
/// as StartAfter therefore skips every key under it.
/// </param>
/// <param name="MaxKeys">The most keys plus common prefixes to return; 0 returns nothing and is not truncated.</param>
public sealed record ListObjectsRequest(string Bucket, string? Prefix, string? Delimiter, string? StartAfter, int MaxKeys);

/// <summary>One page of a listing.</summary>
/// <param name="Objects">Keys in UTF-8 byte order.</param>
/// <param name="CommonPrefixes">Common prefixes in UTF-8 byte order, each listed once.</param>
/// <param name="IsTruncated">Whether more entries follow.</param>
/// <param name="NextMarker">
/// When truncated, the last key or common prefix returned (whichever sorts last); pass it back as StartAfter to
/// continue. Null when not truncated.
/// </param>
public sealed record ListObjectsResult(
    IReadOnlyList<ObjectManifest> Objects,
    IReadOnlyList<string> CommonPrefixes,
    bool IsTruncated,
    string? NextMarker);
