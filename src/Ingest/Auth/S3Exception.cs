using System.Diagnostics.CodeAnalysis;

namespace Predastore.Ingest.Auth;

/// <summary>
/// An error the gateway reports to the client as an S3 error document: <c>Code</c> is the S3 error code
/// (<c>SignatureDoesNotMatch</c>, <c>IncompleteBody</c>, …) and <see cref="StatusCode"/> the HTTP status.
/// </summary>
internal sealed class S3Exception : Exception
{
    public S3Exception(string code, string message, int statusCode)
        : base(message)
    {
        Code = code;
        StatusCode = statusCode;
    }

    public S3Exception(string code, string message, int statusCode, Exception? innerException)
        : base(message, innerException)
    {
        Code = code;
        StatusCode = statusCode;
    }

    /// <summary>The S3 error code, e.g. <c>AccessDenied</c>.</summary>
    public string Code { get; }

    /// <summary>The HTTP status code of the error response.</summary>
    public int StatusCode { get; }

    public override string ToString() => $"{Code} ({StatusCode}): {base.ToString()}";
}

/// <summary>
/// The S3 errors raised by authentication and body decoding, with the codes and texts S3 uses.
/// (Named apart from the gateway's <c>Predastore.Ingest.S3.S3Errors</c> so files importing both namespaces compile.)
/// </summary>
internal static class AuthErrors
{
    public const string AccessDeniedCode = "AccessDenied";
    public const string AuthorizationHeaderMalformedCode = "AuthorizationHeaderMalformed";
    public const string AuthorizationQueryParametersErrorCode = "AuthorizationQueryParametersError";
    public const string BadDigestCode = "BadDigest";
    public const string IncompleteBodyCode = "IncompleteBody";
    public const string InvalidAccessKeyIdCode = "InvalidAccessKeyId";
    public const string InvalidArgumentCode = "InvalidArgument";
    public const string InvalidRequestCode = "InvalidRequest";
    public const string MalformedTrailerErrorCode = "MalformedTrailerError";
    public const string MissingSecurityHeaderCode = "MissingSecurityHeader";
    public const string RequestTimeTooSkewedCode = "RequestTimeTooSkewed";
    public const string SignatureDoesNotMatchCode = "SignatureDoesNotMatch";
    public const string XAmzContentSha256MismatchCode = "XAmzContentSHA256Mismatch";

    public static S3Exception AccessDenied(string message = "Access Denied") =>
        new(AccessDeniedCode, message, 403);

    public static S3Exception AuthorizationHeaderMalformed(string detail) =>
        new(AuthorizationHeaderMalformedCode, "The authorization header is malformed; " + detail, 400);

    public static S3Exception AuthorizationQueryParametersError(string message) =>
        new(AuthorizationQueryParametersErrorCode, message, 400);

    public static S3Exception BadDigest(string algorithmName) =>
        new(BadDigestCode, $"The {algorithmName} you specified did not match the calculated checksum.", 400);

    public static S3Exception IncompleteBody(string message = "The request body terminated unexpectedly", Exception? inner = null) =>
        new(IncompleteBodyCode, message, 400, inner);

    public static S3Exception InvalidAccessKeyId() =>
        new(InvalidAccessKeyIdCode, "The AWS Access Key Id you provided does not exist in our records.", 403);

    public static S3Exception InvalidArgument(string message) =>
        new(InvalidArgumentCode, message, 400);

    public static S3Exception InvalidRequest(string message) =>
        new(InvalidRequestCode, message, 400);

    public static S3Exception MalformedTrailer(string detail) =>
        new(MalformedTrailerErrorCode, "The request contained trailing data that was not well-formed: " + detail, 400);

    public static S3Exception MissingSecurityHeader(string headerName) =>
        new(MissingSecurityHeaderCode, "Your request was missing a required header: " + headerName, 400);

    public static S3Exception RequestTimeTooSkewed() =>
        new(RequestTimeTooSkewedCode, "The difference between the request time and the current time is too large.", 403);

    public static S3Exception SignatureDoesNotMatch() =>
        new(SignatureDoesNotMatchCode,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            403);

    public static S3Exception ChunkSignatureDoesNotMatch() =>
        new(SignatureDoesNotMatchCode, "The chunk signature we calculated does not match the signature you provided.", 403);

    public static S3Exception XAmzContentSha256Mismatch() =>
        new(XAmzContentSha256MismatchCode, "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);
}

/// <summary>Throw sites kept out of hot methods so those stay small enough to inline.</summary>
internal static class S3ThrowHelper
{
    [DoesNotReturn]
    public static void Throw(S3Exception exception) => throw exception;

    [DoesNotReturn]
    public static void ThrowIncompleteBody() => throw AuthErrors.IncompleteBody();

    [DoesNotReturn]
    public static void ThrowMalformedChunk(string detail) =>
        throw AuthErrors.InvalidRequest("The aws-chunked body is malformed: " + detail);

    [DoesNotReturn]
    public static void ThrowChunkSignatureDoesNotMatch() => throw AuthErrors.ChunkSignatureDoesNotMatch();

    [DoesNotReturn]
    public static void ThrowMalformedTrailer(string detail) => throw AuthErrors.MalformedTrailer(detail);

    [DoesNotReturn]
    public static void ThrowNotSupported() => throw new NotSupportedException("This stream only supports ReadAsync.");
}
