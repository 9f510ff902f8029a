using System.Diagnostics.CodeAnalysis;

namespace Predastore.Ingest.S3;

/// <summary>
/// Every S3 error the gateway answers with — request routing, objects, authentication and body decoding — with the
/// code, HTTP status and text S3 uses, and a message naming what was wrong.
/// </summary>
internal static class S3Errors
{
    public const string SignatureDoesNotMatchCode = "SignatureDoesNotMatch";

    public static S3Exception AccessDenied(string message = "Access Denied") => new("AccessDenied", message, 403);

    public static S3Exception AuthorizationHeaderMalformed(string detail) =>
        new("AuthorizationHeaderMalformed", "The authorization header is malformed; " + detail, 400);

    public static S3Exception AuthorizationQueryParametersError(string message) => new("AuthorizationQueryParametersError", message, 400);

    public static S3Exception InvalidAccessKeyId() =>
        new("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403);

    public static S3Exception RequestTimeTooSkewed() =>
        new("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", 403);

    public static S3Exception SignatureDoesNotMatch() =>
        new(SignatureDoesNotMatchCode, "The request signature we calculated does not match the signature you provided. Check your key and signing method.", 403);

    public static S3Exception ChunkSignatureDoesNotMatch() =>
        new(SignatureDoesNotMatchCode, "The chunk signature we calculated does not match the signature you provided.", 403);

    public static S3Exception XAmzContentSha256Mismatch() =>
        new("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", 400);

    public static S3Exception MalformedTrailer(string detail) =>
        new("MalformedTrailerError", "The request contained trailing data that was not well-formed: " + detail, 400);

    public static S3Exception NoSuchBucket(string bucket) => new("NoSuchBucket", $"The specified bucket does not exist: {bucket}", 404);

    public static S3Exception NoSuchKey(string key) => new("NoSuchKey", $"The specified key does not exist: {key}", 404);

    public static S3Exception BucketNotEmpty(string bucket) => new("BucketNotEmpty", $"The bucket you tried to delete is not empty: {bucket}", 409);

    public static S3Exception BucketAlreadyOwnedByYou(string bucket) =>
        new("BucketAlreadyOwnedByYou", $"Your previous request to create the named bucket succeeded and you already own it: {bucket}", 409);

    public static S3Exception InvalidBucketName(string bucket, string why) => new("InvalidBucketName", $"The specified bucket is not valid ({why}): {bucket}", 400);

    public static S3Exception KeyTooLong(int bytes) => new("KeyTooLongError", $"Your key is too long: {bytes} bytes, the limit is 1024.", 400);

    public static S3Exception InvalidRange(long size) => new("InvalidRange", $"The requested range is not satisfiable for an object of {size} bytes.", 416);

    public static S3Exception MalformedXml(string why) => new("MalformedXML", $"The XML you provided was not well-formed or did not validate against our published schema: {why}", 400);

    public static S3Exception BadDigest(string what) => new("BadDigest", $"The {what} you specified did not match the calculated checksum.", 400);

    public static S3Exception InvalidDigest(string what) => new("InvalidDigest", $"The {what} you specified is not valid.", 400);

    public static S3Exception InvalidArgument(string message) => new("InvalidArgument", message, 400);

    public static S3Exception InvalidRequest(string message) => new("InvalidRequest", message, 400);

    public static S3Exception MissingContentLength() => new("MissingContentLength", "You must provide the Content-Length HTTP header.", 411);

    public static S3Exception EntityTooLarge(long size, long limit) => new("EntityTooLarge", $"Your proposed upload of {size} bytes exceeds the maximum allowed object size of {limit} bytes.", 400);

    public static S3Exception IncompleteBody(string message = "You did not provide the number of bytes specified by the Content-Length HTTP header.", Exception? inner = null) =>
        new("IncompleteBody", message, 400, inner);

    public static S3Exception NotImplemented(string what) => new("NotImplemented", $"A header or query you provided implies functionality that is not implemented: {what}", 501);

    public static S3Exception MethodNotAllowed(string method) => new("MethodNotAllowed", $"The specified method is not allowed against this resource: {method}", 405);

    public static S3Exception PreconditionFailed(string condition) => new("PreconditionFailed", $"At least one of the preconditions you specified did not hold: {condition}", 412);

    public static S3Exception ServiceUnavailable(string why) => new("ServiceUnavailable", $"Please reduce your request rate or retry: {why}", 503);

    public static S3Exception InsufficientStorage(string why) => new("InsufficientStorage", $"The storage nodes have no room for the object: {why}", 507);

    public static S3Exception InternalError() => new("InternalError", "We encountered an internal error. Please try again.", 500);

    [DoesNotReturn]
    public static void Throw(S3Exception exception) => throw exception;
}
