using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Auth;

/// <summary>
/// Verifies AWS Signature Version 4 on S3 requests, from the Authorization header or from presigned-URL
/// query parameters. Anonymous requests are refused. The request is only read (headers, raw target); the body
/// is verified later by the reader from <see cref="PayloadReader.Open"/>, which continues the signature chain.
/// </summary>
internal sealed class SigV4Verifier
{
    public const int MaxPresignedExpirySeconds = 604800;

    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(15);

    // Derived keys change once a day per secret; the cap only guards against unbounded growth from
    // many access keys or forged dates (which are rejected by the skew check before derivation anyway).
    private const int MaxCachedSigningKeys = 1024;

    private const string AmzDateFormat = "yyyyMMdd'T'HHmmss'Z'";
    private const string AlgorithmParameter = "X-Amz-Algorithm";
    private const string CredentialParameter = "X-Amz-Credential";
    private const string DateParameter = "X-Amz-Date";
    private const string ExpiresParameter = "X-Amz-Expires";
    private const string SignedHeadersParameter = "X-Amz-SignedHeaders";
    private const string SignatureParameter = "X-Amz-Signature";
    private const string ContentSha256Parameter = "X-Amz-Content-Sha256";

    private const string ContentSha256Header = "x-amz-content-sha256";
    private const string AmzDateHeader = "x-amz-date";

    private readonly Func<string, string?> _secretKeyLookup;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<SigningKeyId, byte[]> _signingKeys = new();

    /// <param name="secretKeyLookup">Access key id → secret key, or null when the key is unknown.</param>
    /// <param name="region">The only region this endpoint accepts in credential scopes.</param>
    /// <param name="timeProvider">Clock for skew and expiry checks.</param>
    /// <param name="service">The service name in the credential scope.</param>
    public SigV4Verifier(Func<string, string?> secretKeyLookup, string region, TimeProvider timeProvider, string service = "s3")
    {
        ArgumentNullException.ThrowIfNull(secretKeyLookup);
        ArgumentException.ThrowIfNullOrEmpty(region);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentException.ThrowIfNullOrEmpty(service);
        _secretKeyLookup = secretKeyLookup;
        _timeProvider = timeProvider;
        Region = region;
        Service = service;
    }

    public string Region { get; }

    public string Service { get; }

    /// <summary>Verifies the request's signature. Never throws for client errors: they come back as a failure.</summary>
    public AuthResult Verify(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);

        (string rawPath, string rawQuery) = SigV4Canonical.GetRawTarget(request);
        List<CanonicalQueryParameter> query = SigV4Canonical.ParseQuery(rawQuery);
        StringValues authorization = request.Headers.Authorization;
        bool presigned = Find(query, AlgorithmParameter) is not null;

        if (!StringValues.IsNullOrEmpty(authorization))
        {
            if (presigned)
            {
                return Fail(S3Errors.InvalidArgument(
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"));
            }

            return VerifyHeader(request, authorization, rawPath, query);
        }

        if (presigned)
        {
            return VerifyPresigned(request, rawPath, query);
        }

        if (Find(query, "Signature") is not null || Find(query, "AWSAccessKeyId") is not null)
        {
            return Fail(UnsupportedMechanism());
        }

        return Fail(S3Errors.AccessDenied("Anonymous access is not allowed; sign the request with AWS Signature Version 4."));
    }

    private AuthResult VerifyHeader(HttpRequest request, StringValues authorization, string rawPath, List<CanonicalQueryParameter> query)
    {
        if (authorization.Count != 1)
        {
            return Fail(S3Errors.AuthorizationHeaderMalformed("more than one Authorization header."));
        }

        string header = authorization[0]!;
        if (!header.StartsWith(SigV4Signing.Algorithm + " ", StringComparison.Ordinal))
        {
            return Fail(UnsupportedMechanism());
        }

        string? credential = null, signedHeadersText = null, signature = null;
        foreach (Range range in header.AsSpan(SigV4Signing.Algorithm.Length + 1).Split(','))
        {
            ReadOnlySpan<char> part = header.AsSpan(SigV4Signing.Algorithm.Length + 1)[range].Trim();
            if (part.IsEmpty)
            {
                continue;
            }

            int eq = part.IndexOf('=');
            if (eq <= 0)
            {
                return Fail(S3Errors.AuthorizationHeaderMalformed($"'{part}' is not a key=value pair."));
            }

            ReadOnlySpan<char> key = part[..eq].Trim();
            string value = part[(eq + 1)..].Trim().ToString();
            ref string? slot = ref credential;
            if (key.SequenceEqual("Credential"))
            {
                slot = ref credential;
            }
            else if (key.SequenceEqual("SignedHeaders"))
            {
                slot = ref signedHeadersText;
            }
            else if (key.SequenceEqual("Signature"))
            {
                slot = ref signature;
            }
            else
            {
                return Fail(S3Errors.AuthorizationHeaderMalformed($"unexpected component '{key}'."));
            }

            if (slot is not null)
            {
                return Fail(S3Errors.AuthorizationHeaderMalformed($"'{key}' appears more than once."));
            }

            slot = value;
        }

        if (credential is null || signedHeadersText is null || signature is null)
        {
            return Fail(S3Errors.AuthorizationHeaderMalformed("it must contain Credential, SignedHeaders and Signature."));
        }

        if (!TryParseCredential(credential, out CredentialScope scope))
        {
            return Fail(S3Errors.AuthorizationHeaderMalformed(
                "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."));
        }

        if (ValidateScope(scope) is { } scopeError)
        {
            return Fail(S3Errors.AuthorizationHeaderMalformed(scopeError));
        }

        if (!TryGetHeaderDate(request.Headers, out string amzDate, out DateTimeOffset requestTime))
        {
            return Fail(S3Errors.AccessDenied("AWS authentication requires a valid Date or x-amz-date header"));
        }

        if (!amzDate.AsSpan(0, 8).SequenceEqual(scope.Date))
        {
            return Fail(S3Errors.AuthorizationHeaderMalformed(
                $"Invalid credential date \"{scope.Date}\". This date is not the same as X-Amz-Date: \"{amzDate[..8]}\"."));
        }

        TimeSpan skew = _timeProvider.GetUtcNow() - requestTime;
        if (skew.Duration() > MaxClockSkew)
        {
            return Fail(S3Errors.RequestTimeTooSkewed());
        }

        StringValues contentSha256 = request.Headers[ContentSha256Header];
        if (StringValues.IsNullOrEmpty(contentSha256))
        {
            return Fail(S3Errors.InvalidRequest("Missing required header for this request: x-amz-content-sha256"));
        }

        string payloadHash = contentSha256.ToString();
        if (contentSha256.Count != 1 || !PayloadModes.TryParse(payloadHash, out PayloadMode payloadMode))
        {
            return Fail(S3Errors.InvalidArgument(
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value."));
        }

        if (!TryParseSignedHeaders(signedHeadersText, out string[] signedHeaders))
        {
            return Fail(S3Errors.AuthorizationHeaderMalformed("SignedHeaders must be a ';'-separated list of lowercase header names including 'host'."));
        }

        if (FindUnsignedAmzHeader(request.Headers, signedHeaders) is { } unsigned)
        {
            return Fail(S3Errors.AccessDenied($"There were headers present in the request which were not signed: {unsigned}"));
        }

        return Finish(request, scope, amzDate, requestTime, rawPath, SigV4Canonical.CanonicalQueryString(query, exclude: null),
            signedHeaders, signedHeadersText, signature, payloadHash, payloadMode, isPresigned: false);
    }

    private AuthResult VerifyPresigned(HttpRequest request, string rawPath, List<CanonicalQueryParameter> query)
    {
        string? algorithm = FindDecoded(query, AlgorithmParameter);
        string? credential = FindDecoded(query, CredentialParameter);
        string? date = FindDecoded(query, DateParameter);
        string? expires = FindDecoded(query, ExpiresParameter);
        string? signedHeadersText = FindDecoded(query, SignedHeadersParameter);
        string? signature = FindDecoded(query, SignatureParameter);
        if (algorithm is null || credential is null || date is null || expires is null || signedHeadersText is null || signature is null)
        {
            return Fail(S3Errors.AuthorizationQueryParametersError(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."));
        }

        if (algorithm != SigV4Signing.Algorithm)
        {
            return Fail(S3Errors.AuthorizationQueryParametersError("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""));
        }

        if (!TryParseCredential(credential, out CredentialScope scope))
        {
            return Fail(S3Errors.AuthorizationQueryParametersError(
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."));
        }

        if (ValidateScope(scope) is { } scopeError)
        {
            return Fail(S3Errors.AuthorizationQueryParametersError("Error parsing the X-Amz-Credential parameter; " + scopeError));
        }

        if (!TryParseAmzDate(date, out DateTimeOffset requestTime))
        {
            return Fail(S3Errors.AuthorizationQueryParametersError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""));
        }

        if (!date.AsSpan(0, 8).SequenceEqual(scope.Date))
        {
            return Fail(S3Errors.AuthorizationQueryParametersError(
                $"Invalid credential date \"{scope.Date}\". This date is not the same as X-Amz-Date: \"{date[..8]}\"."));
        }

        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out long expirySeconds))
        {
            return Fail(S3Errors.InvalidArgument(expires.StartsWith('-') ? "X-Amz-Expires must be non-negative" : "X-Amz-Expires should be a number"));
        }

        if (expirySeconds > MaxPresignedExpirySeconds)
        {
            return Fail(S3Errors.InvalidArgument("X-Amz-Expires must be less than a week (in seconds) that is 604800"));
        }

        DateTimeOffset now = _timeProvider.GetUtcNow();
        if (now > requestTime.AddSeconds(expirySeconds))
        {
            return Fail(S3Errors.AccessDenied("Request has expired"));
        }

        if (requestTime - now > MaxClockSkew)
        {
            return Fail(S3Errors.AccessDenied("Request is not valid yet"));
        }

        // Presigned URLs sign UNSIGNED-PAYLOAD unless the URL itself carries a payload hash.
        string payloadHash = FindDecoded(query, ContentSha256Parameter) ?? PayloadModes.UnsignedPayload;
        if (!PayloadModes.TryParse(payloadHash, out PayloadMode payloadMode) || payloadMode.IsStreaming())
        {
            return Fail(S3Errors.InvalidArgument("X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value."));
        }

        if (!TryParseSignedHeaders(signedHeadersText, out string[] signedHeaders))
        {
            return Fail(S3Errors.AuthorizationQueryParametersError(
                "X-Amz-SignedHeaders must be a ';'-separated list of lowercase header names including 'host'."));
        }

        if (FindUnsignedAmzHeader(request.Headers, signedHeaders) is { } unsigned)
        {
            return Fail(S3Errors.AccessDenied($"There were headers present in the request which were not signed: {unsigned}"));
        }

        return Finish(request, scope, date, requestTime, rawPath, SigV4Canonical.CanonicalQueryString(query, exclude: SignatureParameter),
            signedHeaders, signedHeadersText, signature, payloadHash, payloadMode, isPresigned: true);
    }

    private AuthResult Finish(
        HttpRequest request,
        CredentialScope scope,
        string amzDate,
        DateTimeOffset requestTime,
        string rawPath,
        string canonicalQuery,
        string[] signedHeaders,
        string signedHeadersText,
        string signature,
        string payloadHash,
        PayloadMode payloadMode,
        bool isPresigned)
    {
        string? secretKey = _secretKeyLookup(scope.AccessKey);
        if (secretKey is null)
        {
            return Fail(S3Errors.InvalidAccessKeyId());
        }

        byte[] signingKey = GetSigningKey(secretKey, scope.Date);
        string canonicalRequest = SigV4Canonical.CanonicalRequest(
            request.Method, SigV4Canonical.CanonicalUri(rawPath), canonicalQuery, request.Headers, signedHeaders, signedHeadersText, payloadHash);
        string credentialScope = scope.ToScopeString();
        string stringToSign = SigV4Canonical.StringToSign(amzDate, credentialScope, canonicalRequest);

        Span<byte> computed = stackalloc byte[SigV4Signing.SignatureHexLength];
        SigV4Signing.Sign(signingKey, stringToSign, computed);
        if (!SigV4Signing.SignatureEquals(computed, signature))
        {
            return Fail(S3Errors.SignatureDoesNotMatch());
        }

        return AuthResult.Success(new SigV4Context(
            scope.AccessKey, signature, signingKey, credentialScope, amzDate, requestTime, payloadMode, payloadHash, isPresigned));
    }

    // Internal for testing.
    internal byte[] GetSigningKey(string secretKey, string date)
    {
        var id = new SigningKeyId(secretKey, date, Region);
        if (_signingKeys.TryGetValue(id, out byte[]? key))
        {
            return key;
        }

        key = SigV4Signing.DeriveSigningKey(secretKey, date, Region, Service);
        if (_signingKeys.Count >= MaxCachedSigningKeys)
        {
            _signingKeys.Clear();
        }

        return _signingKeys.GetOrAdd(id, key);
    }

    private string? ValidateScope(in CredentialScope scope)
    {
        if (scope.Region != Region)
        {
            return $"the region '{scope.Region}' is wrong; expecting '{Region}'";
        }

        if (scope.Service != Service)
        {
            return $"incorrect service '{scope.Service}'. This endpoint belongs to '{Service}'.";
        }

        if (scope.Terminator != SigV4Signing.Terminator)
        {
            return $"incorrect terminal '{scope.Terminator}'. This endpoint uses '{SigV4Signing.Terminator}'.";
        }

        return null;
    }

    private static bool TryParseCredential(string credential, out CredentialScope scope)
    {
        // <access key>/<yyyyMMdd>/<region>/<service>/aws4_request; the access key itself has no '/'.
        string[] parts = credential.Split('/');
        scope = default;
        if (parts.Length != 5 || parts[0].Length == 0 || parts[1].Length != 8 || !parts[1].All(char.IsAsciiDigit)
            || parts[2].Length == 0 || parts[3].Length == 0)
        {
            return false;
        }

        scope = new CredentialScope(parts[0], parts[1], parts[2], parts[3], parts[4]);
        return true;
    }

    private static bool TryParseSignedHeaders(string text, out string[] names)
    {
        names = text.Split(';');
        bool hasHost = false;
        foreach (string name in names)
        {
            if (name.Length == 0)
            {
                return false;
            }

            foreach (char c in name)
            {
                if (char.IsAsciiLetterUpper(c) || c <= ' ' || c > '~')
                {
                    return false;
                }
            }

            hasHost |= name == "host";
        }

        return hasHost;
    }

    private static bool TryGetHeaderDate(IHeaderDictionary headers, out string amzDate, out DateTimeOffset time)
    {
        StringValues amz = headers[AmzDateHeader];
        if (!StringValues.IsNullOrEmpty(amz))
        {
            amzDate = amz.ToString();
            time = default;
            return amz.Count == 1 && TryParseAmzDate(amzDate, out time);
        }

        // SigV4 allows the HTTP Date header instead; the string to sign still uses the ISO 8601 basic form.
        StringValues date = headers.Date;
        if (date.Count == 1 && DateTimeOffset.TryParseExact(date[0], "r", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out time))
        {
            amzDate = time.ToString(AmzDateFormat, CultureInfo.InvariantCulture);
            return true;
        }

        amzDate = string.Empty;
        time = default;
        return false;
    }

    private static bool TryParseAmzDate(string value, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(value, AmzDateFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out time);

    /// <summary>
    /// Any x-amz-* header must be signed: otherwise it could be added or changed in transit (e.g. x-amz-copy-source)
    /// without invalidating the signature. x-amz-date and x-amz-content-sha256 are covered by the string to sign
    /// and the canonical request's payload line (or ignored, for presigned URLs).
    /// </summary>
    private static string? FindUnsignedAmzHeader(IHeaderDictionary headers, string[] signedHeaders)
    {
        foreach (KeyValuePair<string, StringValues> header in headers)
        {
            string name = header.Key;
            if (!name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase)
                || name.Equals(AmzDateHeader, StringComparison.OrdinalIgnoreCase)
                || name.Equals(ContentSha256Header, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            bool signed = false;
            foreach (string s in signedHeaders)
            {
                if (s.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    signed = true;
                    break;
                }
            }

            if (!signed)
            {
                return name.ToLowerInvariant();
            }
        }

        return null;
    }

    private static CanonicalQueryParameter? Find(List<CanonicalQueryParameter> query, string name)
    {
        foreach (CanonicalQueryParameter p in query)
        {
            // The names looked up are all unreserved characters, so their canonical form is the name itself.
            if (p.Name == name)
            {
                return p;
            }
        }

        return null;
    }

    private static string? FindDecoded(List<CanonicalQueryParameter> query, string name) =>
        Find(query, name) is { } p ? Uri.UnescapeDataString(p.Value) : null;

    private static S3Exception UnsupportedMechanism() =>
        S3Errors.InvalidRequest("The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.");

    private static AuthResult Fail(S3Exception error) => AuthResult.Failure(error);

    private readonly record struct SigningKeyId(string SecretKey, string Date, string Region);

    private readonly record struct CredentialScope(string AccessKey, string Date, string Region, string Service, string Terminator)
    {
        public string ToScopeString() => $"{Date}/{Region}/{Service}/{Terminator}";
    }
}
