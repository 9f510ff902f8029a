namespace Predastore.Ingest.Auth;

/// <summary>
/// What a verified SigV4 request established: who signed it, and the material the body reader needs to
/// continue the signature chain over aws-chunked chunks and trailers.
/// </summary>
internal sealed class SigV4Context
{
    public SigV4Context(
        string accessKey,
        string signature,
        ReadOnlyMemory<byte> signingKey,
        string scope,
        string amzDate,
        DateTimeOffset requestTime,
        PayloadMode payloadMode,
        string payloadHash,
        bool isPresigned)
    {
        AccessKey = accessKey;
        Signature = signature;
        SigningKey = signingKey;
        Scope = scope;
        AmzDate = amzDate;
        RequestTime = requestTime;
        PayloadMode = payloadMode;
        PayloadHash = payloadHash;
        IsPresigned = isPresigned;
    }

    public string AccessKey { get; }

    /// <summary>The request signature (lowercase hex); for aws-chunked bodies the seed of the chunk chain.</summary>
    public string Signature { get; }

    /// <summary>HMAC key derived from secret, date, region and service. Shared with the key cache: never write to it.</summary>
    public ReadOnlyMemory<byte> SigningKey { get; }

    /// <summary><c>yyyyMMdd/region/s3/aws4_request</c>.</summary>
    public string Scope { get; }

    /// <summary>The request timestamp as signed, <c>yyyyMMdd'T'HHmmss'Z'</c>.</summary>
    public string AmzDate { get; }

    public DateTimeOffset RequestTime { get; }

    public PayloadMode PayloadMode { get; }

    /// <summary>The declared <c>x-amz-content-sha256</c> value (or <c>UNSIGNED-PAYLOAD</c> for presigned URLs).</summary>
    public string PayloadHash { get; }

    public bool IsPresigned { get; }
}
