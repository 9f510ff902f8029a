using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Auth;

/// <summary>
/// Names and values of the S3 checksum headers: <c>x-amz-checksum-&lt;alg&gt;</c> (value base64),
/// <c>x-amz-sdk-checksum-algorithm</c> / <c>x-amz-checksum-algorithm</c> (value e.g. <c>CRC32C</c>),
/// and <c>x-amz-trailer</c> (value the name of the trailing checksum header).
/// </summary>
internal static class ChecksumHeaders
{
    public const string HeaderPrefix = "x-amz-checksum-";
    public const string SdkAlgorithmHeader = "x-amz-sdk-checksum-algorithm";
    public const string AlgorithmHeader = "x-amz-checksum-algorithm";
    public const string TrailerHeader = "x-amz-trailer";
    public const int MaxHashSize = 32;

    public static int HashSize(ChecksumAlgorithm algorithm) => algorithm switch
    {
        ChecksumAlgorithm.Crc32 or ChecksumAlgorithm.Crc32C => 4,
        ChecksumAlgorithm.Crc64Nvme => 8,
        ChecksumAlgorithm.Sha1 => 20,
        ChecksumAlgorithm.Sha256 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, null),
    };

    /// <summary>The algorithm's name as S3 spells it in x-amz-sdk-checksum-algorithm: CRC32, CRC32C, CRC64NVME, SHA1, SHA256.</summary>
    public static string AlgorithmName(ChecksumAlgorithm algorithm) => algorithm switch
    {
        ChecksumAlgorithm.Crc32 => "CRC32",
        ChecksumAlgorithm.Crc32C => "CRC32C",
        ChecksumAlgorithm.Crc64Nvme => "CRC64NVME",
        ChecksumAlgorithm.Sha1 => "SHA1",
        ChecksumAlgorithm.Sha256 => "SHA256",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, null),
    };

    /// <summary>x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1 or -sha256.</summary>
    public static string HeaderName(ChecksumAlgorithm algorithm) => algorithm switch
    {
        ChecksumAlgorithm.Crc32 => "x-amz-checksum-crc32",
        ChecksumAlgorithm.Crc32C => "x-amz-checksum-crc32c",
        ChecksumAlgorithm.Crc64Nvme => "x-amz-checksum-crc64nvme",
        ChecksumAlgorithm.Sha1 => "x-amz-checksum-sha1",
        ChecksumAlgorithm.Sha256 => "x-amz-checksum-sha256",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, null),
    };

    /// <summary>Parses an algorithm name (case-insensitive), as in x-amz-sdk-checksum-algorithm.</summary>
    public static bool TryParseAlgorithmName(ReadOnlySpan<char> name, out ChecksumAlgorithm algorithm)
    {
        name = name.Trim();
        foreach (ChecksumAlgorithm candidate in Enum.GetValues<ChecksumAlgorithm>())
        {
            if (name.Equals(AlgorithmName(candidate), StringComparison.OrdinalIgnoreCase))
            {
                algorithm = candidate;
                return true;
            }
        }

        algorithm = default;
        return false;
    }

    /// <summary>Parses a checksum header name (case-insensitive), e.g. x-amz-checksum-crc32c; also an x-amz-trailer value.</summary>
    public static bool TryParseHeaderName(ReadOnlySpan<char> headerName, out ChecksumAlgorithm algorithm)
    {
        headerName = headerName.Trim();
        if (headerName.StartsWith(HeaderPrefix, StringComparison.OrdinalIgnoreCase))
        {
            ReadOnlySpan<char> suffix = headerName[HeaderPrefix.Length..];

            // x-amz-checksum-algorithm and x-amz-checksum-type share the prefix but carry no checksum.
            return TryParseAlgorithmName(suffix, out algorithm);
        }

        algorithm = default;
        return false;
    }

    /// <summary>True when <paramref name="value"/> is base64 of exactly the algorithm's hash size.</summary>
    public static bool IsValidValue(ChecksumAlgorithm algorithm, string value)
    {
        Span<byte> decoded = stackalloc byte[MaxHashSize];
        return Convert.TryFromBase64String(value, decoded, out int n) && n == HashSize(algorithm);
    }

    /// <summary>
    /// Finds the one checksum the request carries in its headers: an x-amz-checksum-&lt;alg&gt; header with its value,
    /// or the algorithm announced in x-amz-trailer (value null: it arrives in the trailer). Returns false when there is none.
    /// Throws InvalidRequest for more than one checksum, a malformed value, or an x-amz-sdk-checksum-algorithm that
    /// disagrees with the header sent.
    /// </summary>
    public static bool TryGetRequestChecksum(IHeaderDictionary headers, out ChecksumAlgorithm algorithm, out string? value)
    {
        ArgumentNullException.ThrowIfNull(headers);
        bool found = false;
        algorithm = default;
        value = null;
        foreach (KeyValuePair<string, StringValues> header in headers)
        {
            if (!TryParseHeaderName(header.Key, out ChecksumAlgorithm headerAlgorithm))
            {
                continue;
            }

            if (found)
            {
                ThrowMultiple();
            }

            found = true;
            algorithm = headerAlgorithm;
            value = header.Value.ToString();
            if (header.Value.Count != 1 || !IsValidValue(algorithm, value))
            {
                S3ThrowHelper.Throw(S3Errors.InvalidRequest($"Value for {HeaderName(algorithm)} header is invalid."));
            }
        }

        StringValues trailer = headers[TrailerHeader];
        foreach (string? declared in trailer)
        {
            foreach (string name in (declared ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!TryParseHeaderName(name, out ChecksumAlgorithm trailerAlgorithm))
                {
                    continue;
                }

                if (found)
                {
                    ThrowMultiple();
                }

                found = true;
                algorithm = trailerAlgorithm;
                value = null;
            }
        }

        StringValues sdkAlgorithm = headers[SdkAlgorithmHeader];
        if (!StringValues.IsNullOrEmpty(sdkAlgorithm))
        {
            if (!TryParseAlgorithmName(sdkAlgorithm.ToString(), out ChecksumAlgorithm announced))
            {
                S3ThrowHelper.Throw(S3Errors.InvalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid."));
            }

            if (found && announced != algorithm)
            {
                S3ThrowHelper.Throw(S3Errors.InvalidRequest(
                    $"x-amz-sdk-checksum-algorithm specified {AlgorithmName(announced)} but the checksum sent is {AlgorithmName(algorithm)}."));
            }
        }

        return found;
    }

    [DoesNotReturn]
    private static void ThrowMultiple() =>
        S3ThrowHelper.Throw(S3Errors.InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."));
}
