using Microsoft.AspNetCore.Http;

namespace Predastore.Ingest.Auth;

/// <summary>Picks the body reader that matches what a verified request declared in x-amz-content-sha256.</summary>
internal static class PayloadReader
{
    /// <summary>
    /// Returns the decoded, verifying body: a <see cref="SignedPayloadReader"/> for a declared SHA-256, an
    /// <see cref="AwsChunkedReader"/> for the STREAMING-* modes, and the raw body for UNSIGNED-PAYLOAD.
    /// Nothing read from it is trustworthy until a read returns 0.
    /// </summary>
    public static Stream Open(HttpRequest request, SigV4Context context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        return context.PayloadMode switch
        {
            PayloadMode.SignedHash => new SignedPayloadReader(request.BodyReader, context.PayloadHash),
            PayloadMode.Unsigned => request.Body,
            _ => AwsChunkedReader.Create(request, context),
        };
    }
}
