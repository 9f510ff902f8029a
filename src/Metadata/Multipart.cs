using System.Collections.ObjectModel;

namespace Predastore.Metadata;

/// <summary>A multipart upload in progress: what CreateMultipartUpload said the final object will be.</summary>
public sealed record MultipartUpload
{
    public required string UploadId { get; init; }

    public required string Bucket { get; init; }

    public required string Key { get; init; }

    public required DateTimeOffset Initiated { get; init; }

    public string? ContentType { get; init; }

    public string? ContentEncoding { get; init; }

    public string? CacheControl { get; init; }

    public string? ContentDisposition { get; init; }

    public IReadOnlyDictionary<string, string> UserMetadata { get; init; } = ReadOnlyDictionary<string, string>.Empty;

    /// <summary>The checksum algorithm every part carries (e.g. <c>CRC32</c>), or null.</summary>
    public string? ChecksumAlgorithm { get; init; }

    /// <summary><c>COMPOSITE</c> or <c>FULL_OBJECT</c>, with <see cref="ChecksumAlgorithm"/>.</summary>
    public string? ChecksumType { get; init; }

    public required int DataShards { get; init; }

    public required int ParityShards { get; init; }

    public required int BlockSize { get; init; }
}

/// <summary>One uploaded part: an extent of its own, placed by the final object's hash.</summary>
public sealed record PartInfo(int PartNumber, Guid DataId, long Size, string ETag, DateTimeOffset LastModified, string? Checksum, IReadOnlyList<int> Placement)
{
    public Extent ToExtent() => new(DataId, Size, Placement) { PartNumber = PartNumber };
}

public sealed record ListPartsResult(IReadOnlyList<PartInfo> Parts, bool IsTruncated, int NextPartNumberMarker);

public sealed record ListUploadsRequest(string Bucket, string? Prefix, string? Delimiter, string? KeyMarker, string? UploadIdMarker, int MaxUploads);

public sealed record ListUploadsResult(
    IReadOnlyList<MultipartUpload> Uploads,
    IReadOnlyList<string> CommonPrefixes,
    bool IsTruncated,
    string? NextKeyMarker,
    string? NextUploadIdMarker);

/// <summary>A part the completion request names: its number and the ETag the client got for it.</summary>
public readonly record struct CompletedPart(int PartNumber, string ETag, string? Checksum);

public enum CompleteStatus
{
    Completed,
    NoSuchUpload,

    /// <summary>A named part was never uploaded, or its ETag or checksum does not match.</summary>
    InvalidPart,

    /// <summary>A part other than the last is smaller than the minimum part size.</summary>
    EntityTooSmall,
}

/// <param name="Status">What happened.</param>
/// <param name="PartNumber">The offending part, for InvalidPart and EntityTooSmall.</param>
/// <param name="Manifest">The committed manifest, when completed.</param>
public sealed record CompleteResult(CompleteStatus Status, int PartNumber = 0, ObjectManifest? Manifest = null);
