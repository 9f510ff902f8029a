using System.Diagnostics.CodeAnalysis;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Auth;

/// <summary>Throw sites kept out of hot methods so those stay small enough to inline.</summary>
internal static class S3ThrowHelper
{
    [DoesNotReturn]
    public static void Throw(S3Exception exception) => throw exception;

    [DoesNotReturn]
    public static void ThrowIncompleteBody() => throw S3Errors.IncompleteBody();

    [DoesNotReturn]
    public static void ThrowMalformedChunk(string detail) =>
        throw S3Errors.InvalidRequest("The aws-chunked body is malformed: " + detail);

    [DoesNotReturn]
    public static void ThrowChunkSignatureDoesNotMatch() => throw S3Errors.ChunkSignatureDoesNotMatch();

    [DoesNotReturn]
    public static void ThrowMalformedTrailer(string detail) => throw S3Errors.MalformedTrailer(detail);

    [DoesNotReturn]
    public static void ThrowNotSupported() => throw new NotSupportedException("This stream only supports ReadAsync.");
}
