using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Predastore.LoadDriver;

/// <summary>
/// AWS Signature V4 for S3 path-style requests, header auth with <c>UNSIGNED-PAYLOAD</c>: the body is never
/// hashed, so signing costs two HMACs and a SHA-256 of a few hundred bytes whatever the object's size.
/// </summary>
internal sealed class SigV4Signer
{
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";
    private const string Algorithm = "AWS4-HMAC-SHA256";
    private const string SignedHeaders = "host;x-amz-content-sha256;x-amz-date";

    private readonly string _accessKey;
    private readonly string _secretKey;
    private readonly string _region;
    private readonly Lock _lock = new();

    // The signing key depends only on the date; derived once a day, not per request.
    private string _keyDate = string.Empty;
    private byte[] _signingKey = [];

    public SigV4Signer(string accessKey, string secretKey, string region)
    {
        _accessKey = accessKey;
        _secretKey = secretKey;
        _region = region;
    }

    /// <summary>Adds x-amz-date, x-amz-content-sha256 and Authorization to <paramref name="request"/>.</summary>
    /// <param name="request">A request whose URI path is already URI-encoded, as S3 wants it in the canonical request.</param>
    /// <param name="canonicalQuery">The query, its parameters sorted and encoded (empty for none).</param>
    /// <param name="now">The signing time.</param>
    public void Sign(HttpRequestMessage request, string canonicalQuery, DateTimeOffset now)
    {
        Uri uri = request.RequestUri!;
        string amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string date = amzDate[..8];
        string canonicalRequest = string.Concat(
            request.Method.Method, "\n",
            uri.AbsolutePath, "\n",
            canonicalQuery, "\n",
            "host:", uri.Authority, "\n",
            "x-amz-content-sha256:", UnsignedPayload, "\n",
            "x-amz-date:", amzDate, "\n",
            "\n",
            SignedHeaders, "\n",
            UnsignedPayload);
        string scope = $"{date}/{_region}/s3/aws4_request";
        string stringToSign = string.Concat(
            Algorithm, "\n", amzDate, "\n", scope, "\n",
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
        byte[] signature = HMACSHA256.HashData(SigningKey(date), Encoding.UTF8.GetBytes(stringToSign));

        request.Headers.TryAddWithoutValidation("x-amz-date", amzDate);
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", UnsignedPayload);
        request.Headers.Authorization = new AuthenticationHeaderValue(
            Algorithm,
            $"Credential={_accessKey}/{scope}, SignedHeaders={SignedHeaders}, Signature={Convert.ToHexStringLower(signature)}");
    }

    private byte[] SigningKey(string date)
    {
        lock (_lock)
        {
            if (_keyDate != date)
            {
                byte[] key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + _secretKey), Encoding.UTF8.GetBytes(date));
                key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(_region));
                key = HMACSHA256.HashData(key, "s3"u8);
                _signingKey = HMACSHA256.HashData(key, "aws4_request"u8);
                _keyDate = date;
            }

            return _signingKey;
        }
    }
}
