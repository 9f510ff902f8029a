namespace Predastore.Metadata;

public sealed record BucketInfo(string Name, DateTimeOffset CreationDate);

public enum DeleteBucketResult
{
    Deleted,
    NotFound,
    NotEmpty,
}
