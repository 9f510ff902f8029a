// Invariant: a request the verifier cannot prove was signed by a known key, for this region and service, within
// the allowed time, is refused with the S3 error code and status S3 itself would return, and never throws.
using Microsoft.AspNetCore.Http;
using Predastore.Ingest.Auth;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Tests.Auth;

public sealed class SigV4VerifierFaultTests
{
    [Fact]
    public void Verify_NoAuthentication_IsAccessDenied()
    {
        // Arrange
        HttpRequest request = AwsExample.Request("GET", "/test.txt", ("Host", "examplebucket.s3.amazonaws.com"));

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "AccessDenied", 403);
    }

    [Fact]
    public void Verify_TamperedSignedHeader_IsSignatureDoesNotMatch()
    {
        // Arrange
        HttpRequest request = SigV4VerifierTests.GetObjectExample();
        request.Headers.Range = "bytes=0-10";

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "SignatureDoesNotMatch", 403);
    }

    [Fact]
    public void Verify_TamperedPath_IsSignatureDoesNotMatch()
    {
        // Arrange
        HttpRequest request = SigV4VerifierTests.GetObjectExample();
        request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget = "/test.txt2";

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "SignatureDoesNotMatch", 403);
    }

    [Fact]
    public void Verify_WrongSignature_IsSignatureDoesNotMatch()
    {
        // Arrange
        HttpRequest request = SigV4VerifierTests.GetObjectExample("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb42");

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "SignatureDoesNotMatch", 403);
    }

    [Fact]
    public void Verify_UnknownAccessKey_IsInvalidAccessKeyId()
    {
        // Arrange
        var verifier = new SigV4Verifier(_ => null, AwsExample.Region, new ManualTimeProvider(AwsExample.Time));

        // Act
        AuthResult result = verifier.Verify(SigV4VerifierTests.GetObjectExample());

        // Assert
        AssertError(result, "InvalidAccessKeyId", 403);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(-16)]
    public void Verify_ClockSkewedBeyondFifteenMinutes_IsRequestTimeTooSkewed(int minutes)
    {
        // Arrange
        SigV4Verifier verifier = AwsExample.Verifier(AwsExample.Time.AddMinutes(minutes));

        // Act
        AuthResult result = verifier.Verify(SigV4VerifierTests.GetObjectExample());

        // Assert
        AssertError(result, "RequestTimeTooSkewed", 403);
    }

    [Fact]
    public void Verify_ClockSkewedWithinFifteenMinutes_Succeeds()
    {
        // Arrange
        SigV4Verifier verifier = AwsExample.Verifier(AwsExample.Time.AddMinutes(14));

        // Act
        AuthResult result = verifier.Verify(SigV4VerifierTests.GetObjectExample());

        // Assert
        Assert.True(result.Succeeded, result.Error?.Message);
    }

    [Fact]
    public void Verify_ScopeForOtherRegion_IsAuthorizationHeaderMalformedNamingExpectedRegion()
    {
        // Arrange
        SigV4Verifier verifier = AwsExample.Verifier(region: "eu-west-3");

        // Act
        AuthResult result = verifier.Verify(SigV4VerifierTests.GetObjectExample());

        // Assert
        AssertError(result, "AuthorizationHeaderMalformed", 400);
        Assert.Contains("expecting 'eu-west-3'", result.Error!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,Signature=abc")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1,SignedHeaders=host,Signature=abc")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/iam/aws4_request,SignedHeaders=host,Signature=abc")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130523/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=abc")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=range;x-amz-date,Signature=abc")]
    [InlineData("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=Host,Signature=abc")]
    public void Verify_MalformedAuthorizationHeader_IsAuthorizationHeaderMalformed(string authorization)
    {
        // Arrange
        HttpRequest request = SigV4VerifierTests.GetObjectExample();
        request.Headers.Authorization = authorization;

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "AuthorizationHeaderMalformed", 400);
    }

    [Fact]
    public void Verify_SignatureVersion2Header_IsInvalidRequest()
    {
        // Arrange
        HttpRequest request = SigV4VerifierTests.GetObjectExample();
        request.Headers.Authorization = "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=";

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "InvalidRequest", 400);
    }

    [Fact]
    public void Verify_MissingDate_IsAccessDenied()
    {
        // Arrange
        HttpRequest request = SigV4VerifierTests.GetObjectExample();
        request.Headers.Remove("x-amz-date");

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "AccessDenied", 403);
    }

    [Fact]
    public void Verify_MissingContentSha256_IsInvalidRequest()
    {
        // Arrange
        HttpRequest request = SigV4VerifierTests.GetObjectExample();
        request.Headers.Remove("x-amz-content-sha256");

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "InvalidRequest", 400);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85z")]
    public void Verify_BadContentSha256_IsInvalidArgument(string value)
    {
        // Arrange
        HttpRequest request = SigV4VerifierTests.GetObjectExample();
        request.Headers["x-amz-content-sha256"] = value;

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "InvalidArgument", 400);
    }

    [Fact]
    public void Verify_UnsignedAmzHeaderAdded_IsAccessDenied()
    {
        // Arrange: x-amz-* headers change what the request does, so they must be covered by the signature.
        HttpRequest request = SigV4VerifierTests.GetObjectExample();
        request.Headers["x-amz-copy-source"] = "/otherbucket/secret";

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "AccessDenied", 403);
        Assert.Contains("x-amz-copy-source", result.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_HeaderAndQueryAuthenticationTogether_IsInvalidArgument()
    {
        // Arrange
        HttpRequest request = SigV4VerifierTests.PresignedGetExample();
        request.Headers.Authorization = SigV4VerifierTests.GetObjectExample().Headers.Authorization;

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "InvalidArgument", 400);
    }

    [Fact]
    public void Verify_PresignedPastExpiry_IsAccessDeniedRequestHasExpired()
    {
        // Arrange
        SigV4Verifier verifier = AwsExample.Verifier(AwsExample.Time.AddSeconds(86401));

        // Act
        AuthResult result = verifier.Verify(SigV4VerifierTests.PresignedGetExample());

        // Assert
        AssertError(result, "AccessDenied", 403);
        Assert.Equal(expected: "Request has expired", actual: result.Error!.Message);
    }

    [Fact]
    public void Verify_PresignedAtLastValidSecond_Succeeds()
    {
        // Arrange
        SigV4Verifier verifier = AwsExample.Verifier(AwsExample.Time.AddSeconds(86400));

        // Act
        AuthResult result = verifier.Verify(SigV4VerifierTests.PresignedGetExample());

        // Assert
        Assert.True(result.Succeeded, result.Error?.Message);
    }

    [Theory]
    [InlineData("604801")]
    [InlineData("-1")]
    [InlineData("soon")]
    public void Verify_PresignedBadExpires_IsInvalidArgument(string expires)
    {
        // Arrange
        HttpRequest request = SigV4VerifierTests.PresignedGetExample(expires);

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "InvalidArgument", 400);
    }

    [Fact]
    public void Verify_PresignedTamperedQuery_IsSignatureDoesNotMatch()
    {
        // Arrange: one more query parameter than was signed.
        HttpRequest request = SigV4VerifierTests.PresignedGetExample();
        var feature = request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!;
        feature.RawTarget += "&response-content-type=text%2Fhtml";

        // Act
        AuthResult result = AwsExample.Verifier(AwsExample.Time.AddHours(1)).Verify(request);

        // Assert
        AssertError(result, "SignatureDoesNotMatch", 403);
    }

    [Fact]
    public void Verify_PresignedMissingParameter_IsAuthorizationQueryParametersError()
    {
        // Arrange
        HttpRequest request = AwsExample.Request("GET", "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20130524T000000Z",
            ("Host", "examplebucket.s3.amazonaws.com"));

        // Act
        AuthResult result = AwsExample.Verifier().Verify(request);

        // Assert
        AssertError(result, "AuthorizationQueryParametersError", 400);
    }

    [Fact]
    public void GetContextOrThrow_Failure_ThrowsCarriedError()
    {
        // Arrange
        AuthResult result = AwsExample.Verifier().Verify(SigV4VerifierTests.GetObjectExample("00"));

        // Act
        S3Exception thrown = Assert.Throws<S3Exception>(() => result.GetContextOrThrow());

        // Assert
        Assert.Same(result.Error, thrown);
    }

    private static void AssertError(AuthResult result, string code, int status)
    {
        Assert.False(result.Succeeded);
        Assert.Equal(expected: code, actual: result.Error.Code);
        Assert.Equal(expected: status, actual: result.Error.StatusCode);
    }
}
