namespace Predastore.Ingest.Auth;

/// <summary>What the client declared in <c>x-amz-content-sha256</c>, i.e. how the body is framed and protected.</summary>
internal enum PayloadMode
{
    /// <summary>A hex SHA-256 of the whole body: the body must hash to it.</summary>
    SignedHash,

    /// <summary><c>UNSIGNED-PAYLOAD</c>: the body is not covered by the signature.</summary>
    Unsigned,

    /// <summary><c>STREAMING-AWS4-HMAC-SHA256-PAYLOAD</c>: aws-chunked, every chunk signed.</summary>
    StreamingSigned,

    /// <summary><c>STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER</c>: aws-chunked, chunks and trailers signed.</summary>
    StreamingSignedTrailer,

    /// <summary><c>STREAMING-UNSIGNED-PAYLOAD-TRAILER</c>: aws-chunked without signatures, with trailers.</summary>
    StreamingUnsignedTrailer,
}

internal static class PayloadModes
{
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";
    public const string StreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    public const string StreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    public const string StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

    /// <summary>Hex SHA-256 of the empty string; the "hash of the previous chunk's headers" in every chunk string to sign.</summary>
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>Maps an <c>x-amz-content-sha256</c> value; false for anything S3 would reject with InvalidArgument.</summary>
    public static bool TryParse(string value, out PayloadMode mode)
    {
        switch (value)
        {
            case UnsignedPayload:
                mode = PayloadMode.Unsigned;
                return true;
            case StreamingSigned:
                mode = PayloadMode.StreamingSigned;
                return true;
            case StreamingSignedTrailer:
                mode = PayloadMode.StreamingSignedTrailer;
                return true;
            case StreamingUnsignedTrailer:
                mode = PayloadMode.StreamingUnsignedTrailer;
                return true;
        }

        mode = PayloadMode.SignedHash;
        return value.Length == 64 && IsHex(value);
    }

    public static bool IsStreaming(this PayloadMode mode) =>
        mode is PayloadMode.StreamingSigned or PayloadMode.StreamingSignedTrailer or PayloadMode.StreamingUnsignedTrailer;

    public static bool HasTrailer(this PayloadMode mode) =>
        mode is PayloadMode.StreamingSignedTrailer or PayloadMode.StreamingUnsignedTrailer;

    public static bool HasChunkSignatures(this PayloadMode mode) =>
        mode is PayloadMode.StreamingSigned or PayloadMode.StreamingSignedTrailer;

    private static bool IsHex(string value)
    {
        foreach (char c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
