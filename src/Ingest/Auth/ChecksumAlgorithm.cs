namespace Predastore.Ingest.Auth;

/// <summary>The S3 "flexible checksum" algorithms (x-amz-checksum-*).</summary>
internal enum ChecksumAlgorithm
{
    Crc32,
    Crc32C,
    Crc64Nvme,
    Sha1,
    Sha256,
}
