// Invariant: a request signed exactly as the AWS S3 SigV4 documentation's worked examples is accepted, and the
// verifier rebuilds the canonical request byte for byte from the raw target and headers as received
// (AWSAccessKeyId AKIAIOSFODNN7EXAMPLE, 20130524T000000Z, us-east-1).
using Microsoft.AspNetCore.Http;
using Predastore.Ingest.Auth;

namespace Predastore.Ingest.Tests.Auth;

public sealed class SigV4VerifierTests
{
    private const string Credential = "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";

    internal static HttpRequest GetObjectExample(string signature = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") =>
        AwsExample.Request("GET", "/test.txt",
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Authorization", $"AWS4-HMAC-SHA256 {Credential},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature={signature}"),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", AwsExample.EmptySha256),
            ("x-amz-date", AwsExample.AmzDate));

    internal static HttpRequest PresignedGetExample(string expires = "86400") =>
        AwsExample.Request("GET",
            "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + $"&X-Amz-Date=20130524T000000Z&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host"
            + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
            ("Host", "examplebucket.s3.amazonaws.com"));

    internal static HttpRequest StreamingExample(byte[]? body = null, string decodedLength = "66560") =>
        WithBody(AwsExample.Request("PUT", "/examplebucket/chunkObject.txt",
            ("Host", "s3.amazonaws.com"),
            ("x-amz-date", AwsExample.AmzDate),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("Authorization", $"AWS4-HMAC-SHA256 {Credential},SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", decodedLength),
            ("Content-Length", "66824")), body);

    [Fact]
    public void Verify_GetObjectExample_SucceedsWithSignedEmptyPayload()
    {
        // Arrange
        SigV4Verifier verifier = AwsExample.Verifier();

        // Act
        AuthResult result = verifier.Verify(GetObjectExample());

        // Assert
        Assert.True(result.Succeeded, result.Error?.Message);
        Assert.Equal(expected: AwsExample.AccessKey, actual: result.Context.AccessKey);
        Assert.Equal(expected: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", actual: result.Context.Signature);
        Assert.Equal(expected: AwsExample.Scope, actual: result.Context.Scope);
        Assert.Equal(expected: AwsExample.AmzDate, actual: result.Context.AmzDate);
        Assert.Equal(expected: PayloadMode.SignedHash, actual: result.Context.PayloadMode);
        Assert.Equal(expected: AwsExample.EmptySha256, actual: result.Context.PayloadHash);
        Assert.False(result.Context.IsPresigned);
    }

    [Fact]
    public void CanonicalRequest_GetObjectExample_MatchesDocumentedText()
    {
        // Arrange
        HttpRequest request = GetObjectExample();
        string[] signed = ["host", "range", "x-amz-content-sha256", "x-amz-date"];

        // Act
        string canonical = SigV4Canonical.CanonicalRequest("GET", SigV4Canonical.CanonicalUri("/test.txt"), string.Empty,
            request.Headers, signed, string.Join(';', signed), AwsExample.EmptySha256);
        string stringToSign = SigV4Canonical.StringToSign(AwsExample.AmzDate, AwsExample.Scope, canonical);

        // Assert
        Assert.Equal(
            expected: "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                + $"x-amz-content-sha256:{AwsExample.EmptySha256}\nx-amz-date:20130524T000000Z\n\n"
                + $"host;range;x-amz-content-sha256;x-amz-date\n{AwsExample.EmptySha256}",
            actual: canonical);
        Assert.Equal(
            expected: "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
            actual: stringToSign);
    }

    [Fact]
    public void Verify_AuthorizationWithSpacesAfterCommas_Succeeds()
    {
        // Arrange: SDKs differ on ", " versus "," between the components.
        HttpRequest request = GetObjectExample();
        request.Headers.Authorization = $"AWS4-HMAC-SHA256 {Credential}, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        Assert.True(result.Succeeded, result.Error?.Message);
    }

    [Fact]
    public async Task Verify_PutObjectExample_SucceedsAndBodyMatchesDeclaredHash()
    {
        // Arrange: the key "test$file.text" arrives encoded as %24 and must be signed as %24, not re-encoded to %2524.
        HttpRequest request = AwsExample.Request("PUT", "/test%24file.text",
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("Authorization", $"AWS4-HMAC-SHA256 {Credential},SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
            ("x-amz-date", AwsExample.AmzDate),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"));
        request.Body = new MemoryStream(AuthTestIo.Ascii("Welcome to Amazon S3."));

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);
        await using Stream body = PayloadReader.Open(request, result.GetContextOrThrow());
        byte[] decoded = await AuthTestIo.ReadAllAsync(body);

        // Assert
        Assert.IsType<SignedPayloadReader>(body);
        Assert.Equal(expected: "Welcome to Amazon S3.", actual: System.Text.Encoding.ASCII.GetString(decoded));
    }

    [Fact]
    public void Verify_GetBucketLifecycleExample_SucceedsWithValuelessQueryParameter()
    {
        // Arrange
        HttpRequest request = AwsExample.Request("GET", "/?lifecycle",
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Authorization", $"AWS4-HMAC-SHA256 {Credential},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
            ("x-amz-date", AwsExample.AmzDate),
            ("x-amz-content-sha256", AwsExample.EmptySha256));

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        Assert.True(result.Succeeded, result.Error?.Message);
    }

    [Fact]
    public void Verify_ListObjectsExample_SucceedsWithQuerySortedByName()
    {
        // Arrange: sent as prefix=J&max-keys=2, signed sorted as max-keys=2&prefix=J.
        HttpRequest request = AwsExample.Request("GET", "/?prefix=J&max-keys=2",
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Authorization", $"AWS4-HMAC-SHA256 {Credential},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
            ("x-amz-date", AwsExample.AmzDate),
            ("x-amz-content-sha256", AwsExample.EmptySha256));

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        Assert.True(result.Succeeded, result.Error?.Message);
    }

    [Fact]
    public void Verify_PresignedGetExample_SucceedsWithUnsignedPayload()
    {
        // Arrange: valid for 86400 s from 20130524T000000Z; an hour in.
        SigV4Verifier verifier = AwsExample.Verifier(AwsExample.Time.AddHours(1));

        // Act
        AuthResult result = verifier.Verify(PresignedGetExample());

        // Assert
        Assert.True(result.Succeeded, result.Error?.Message);
        Assert.True(result.Context.IsPresigned);
        Assert.Equal(expected: PayloadMode.Unsigned, actual: result.Context.PayloadMode);
        Assert.Equal(expected: "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", actual: result.Context.Signature);
    }

    [Fact]
    public async Task Verify_StreamingExample_SeedSignatureChainsIntoChunkReader()
    {
        // Arrange
        byte[] body = AwsChunkedReaderTests.DocumentedStreamingBody();
        HttpRequest request = StreamingExample(body);

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);
        await using Stream decoded = PayloadReader.Open(request, result.GetContextOrThrow());
        byte[] payload = await AuthTestIo.ReadAllAsync(decoded);

        // Assert
        Assert.Equal(expected: PayloadMode.StreamingSigned, actual: result.Context!.PayloadMode);
        Assert.Equal(expected: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", actual: result.Context.Signature);
        Assert.IsType<AwsChunkedReader>(decoded);
        Assert.Equal(expected: AuthTestIo.Letters(66560), actual: payload);
    }

    [Fact]
    public void Verify_StreamingTrailerExample_SeedSignatureMatchesDocumentation()
    {
        // Arrange: the trailing-header example signs x-amz-trailer and (unlike the plain example) not content-length.
        HttpRequest request = AwsExample.Request("PUT", "/examplebucket/chunkObject.txt",
            ("Host", "s3.amazonaws.com"),
            ("x-amz-date", AwsExample.AmzDate),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("Authorization", $"AWS4-HMAC-SHA256 {Credential},SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
            ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("x-amz-trailer", "x-amz-checksum-crc32c"));

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        Assert.True(result.Succeeded, result.Error?.Message);
        Assert.Equal(expected: PayloadMode.StreamingSignedTrailer, actual: result.Context.PayloadMode);
    }

    [Fact]
    public void GetSigningKey_SameSecretAndDate_ReturnsCachedKey()
    {
        // Arrange
        SigV4Verifier verifier = AwsExample.Verifier();

        // Act
        byte[] first = verifier.GetSigningKey(AwsExample.SecretKey, "20130524");
        byte[] second = verifier.GetSigningKey(AwsExample.SecretKey, "20130524");

        // Assert
        Assert.Same(first, second);
        Assert.Equal(
            expected: SigV4Signing.DeriveSigningKey(AwsExample.SecretKey, "20130524", AwsExample.Region, "s3"),
            actual: first);
    }

    private static HttpRequest WithBody(HttpRequest request, byte[]? body)
    {
        if (body is not null)
        {
            request.Body = new MemoryStream(body);
        }

        return request;
    }
}
