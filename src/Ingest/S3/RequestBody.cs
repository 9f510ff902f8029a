using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Predastore.Ingest.Auth;

namespace Predastore.Ingest.S3;

/// <summary>
/// The body of an upload as the pipeline reads it: decoded (aws-chunked), verified against what the request
/// declared (payload hash, chunk signatures, length) and, when the client sent one, a checksum to compare at the end.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    private readonly long? _declaredLength;
    private readonly string? _expectedChecksum;

    private RequestBody(Stream stream, long? declaredLength, IncrementalChecksum? checksum, string? expectedChecksum)
    {
        Stream = stream;
        _declaredLength = declaredLength;
        Checksum = checksum;
        _expectedChecksum = expectedChecksum;
    }

    public Stream Stream { get; }

    /// <summary>The checksum the client asked for, computed by the pipeline as the body goes through.</summary>
    public IncrementalChecksum? Checksum { get; }

    /// <param name="request">The upload request.</param>
    /// <param name="auth">Its verified signature, which says how the body is framed and signed.</param>
    /// <param name="maxObjectSize">The largest body accepted.</param>
    /// <param name="required">
    /// The checksum a multipart upload's parts all carry: computed even when the request sends none, and a
    /// request that sends another algorithm is refused.
    /// </param>
    public static RequestBody Open(HttpRequest request, SigV4Context auth, long maxObjectSize, ChecksumAlgorithm? required = null)
    {
        long? declared = auth.PayloadMode.IsStreaming()
            ? ParseLength(request.Headers["x-amz-decoded-content-length"], "x-amz-decoded-content-length")
            : request.ContentLength;
        if (declared is null && !request.Headers.TransferEncoding.Any(v => v?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true))
        {
            throw S3Errors.MissingContentLength();
        }

        if (declared > maxObjectSize)
        {
            throw S3Errors.EntityTooLarge(declared.Value, maxObjectSize);
        }

        IncrementalChecksum? checksum = null;
        string? expected = null;
        if (ChecksumHeaders.TryGetRequestChecksum(request.Headers, out ChecksumAlgorithm algorithm, out string? value))
        {
            if (required is { } upload && upload != algorithm)
            {
                throw S3Errors.InvalidRequest(
                    $"The upload was created for {ChecksumHeaders.AlgorithmName(upload)} checksums; this part carries {ChecksumHeaders.AlgorithmName(algorithm)}.");
            }

            checksum = new IncrementalChecksum(algorithm);
            expected = value;
        }
        else if (required is { } upload)
        {
            checksum = new IncrementalChecksum(upload);
        }

        return new RequestBody(PayloadReader.Open(request, auth), declared, checksum, expected);
    }

    /// <summary>A body that ended before its declared length was cut short: nothing of it is kept.</summary>
    public void VerifyComplete(long size)
    {
        if (_declaredLength is { } declared && declared != size)
        {
            throw S3Errors.IncompleteBody();
        }
    }

    /// <summary>Compares the computed checksum with the one sent (header or trailer); returns the value to store.</summary>
    public string? VerifyChecksum(string? computed)
    {
        if (Checksum is null || computed is null)
        {
            return null;
        }

        string headerName = ChecksumHeaders.HeaderName(Checksum.Algorithm);
        string? sent = _expectedChecksum;
        if (sent is null && Stream is AwsChunkedReader chunked && chunked.TryGetTrailer(headerName, out string trailer))
        {
            sent = trailer;
        }

        if (sent is not null && !string.Equals(sent, computed, StringComparison.Ordinal))
        {
            throw S3Errors.BadDigest(ChecksumHeaders.AlgorithmName(Checksum.Algorithm));
        }

        return computed;
    }

    public void Dispose()
    {
        Checksum?.Dispose();
        if (Stream is PayloadReadStream owned)
        {
            owned.Dispose();
        }
    }

    private static long? ParseLength(StringValues header, string name)
    {
        if (StringValues.IsNullOrEmpty(header))
        {
            return null;
        }

        return long.TryParse(header.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out long length)
            ? length
            : throw S3Errors.InvalidArgument($"{name} must be a non-negative integer.");
    }
}
