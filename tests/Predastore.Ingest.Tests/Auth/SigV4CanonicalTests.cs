// Invariant: the canonical URI and query are the raw target decoded once and re-encoded with the AWS rules —
// unreserved characters kept, everything else %XX uppercase, '/' kept only as a path separator — and S3 paths
// are never normalised.
using Microsoft.AspNetCore.Http;
using Predastore.Ingest.Auth;

namespace Predastore.Ingest.Tests.Auth;

public sealed class SigV4CanonicalTests
{
    [Theory]
    [InlineData("/test.txt", "/test.txt")]
    [InlineData("/test%24file.text", "/test%24file.text")]
    [InlineData("/test$file.text", "/test%24file.text")]
    [InlineData("/a%2fb/c", "/a%2Fb/c")]
    [InlineData("/a b+c", "/a%20b%2Bc")]
    [InlineData("//double//slash/./..", "//double//slash/./..")]
    [InlineData("/~user/-_.", "/~user/-_.")]
    [InlineData("/caf%C3%A9", "/caf%C3%A9")]
    [InlineData("/café", "/caf%C3%A9")]
    [InlineData("/100%", "/100%25")]
    [InlineData("/%zz", "/%25zz")]
    [InlineData("/", "/")]
    public void CanonicalUri_RawPath_IsDecodedOnceAndAwsEncoded(string raw, string canonical)
    {
        // Act
        string actual = SigV4Canonical.CanonicalUri(raw);

        // Assert
        Assert.Equal(expected: canonical, actual: actual);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("lifecycle", "lifecycle=")]
    [InlineData("prefix=J&max-keys=2", "max-keys=2&prefix=J")]
    [InlineData("b=2&a=2&a=1", "a=1&a=2&b=2")]
    [InlineData("prefix=a%2Fb&delimiter=%2F", "delimiter=%2F&prefix=a%2Fb")]
    [InlineData("prefix=a/b c", "prefix=a%2Fb%20c")]
    [InlineData("prefix=a+b", "prefix=a%20b")]
    [InlineData("x=%7e&&y=", "x=~&y=")]
    public void CanonicalQueryString_RawQuery_IsSortedAndAwsEncoded(string raw, string canonical)
    {
        // Act
        string actual = SigV4Canonical.CanonicalQueryString(SigV4Canonical.ParseQuery(raw), exclude: null);

        // Assert
        Assert.Equal(expected: canonical, actual: actual);
    }

    [Fact]
    public void CanonicalQueryString_Presigned_ExcludesSignature()
    {
        // Act
        string actual = SigV4Canonical.CanonicalQueryString(
            SigV4Canonical.ParseQuery("X-Amz-Signature=abc&X-Amz-Date=1&a=b"), exclude: "X-Amz-Signature");

        // Assert
        Assert.Equal(expected: "X-Amz-Date=1&a=b", actual: actual);
    }

    [Fact]
    public void AppendCanonicalHeaders_ValuesWithSpacesAndRepeats_AreTrimmedCollapsedAndJoined()
    {
        // Arrange
        HttpRequest request = AwsExample.Request("GET", "/",
            ("Host", "example.com"), ("x-amz-meta-a", "  one   two  "), ("x-amz-meta-b", "1"), ("x-amz-meta-b", " 2 "));
        var sb = new System.Text.StringBuilder();

        // Act
        SigV4Canonical.AppendCanonicalHeaders(sb, request.Headers, ["host", "x-amz-meta-a", "x-amz-meta-b"]);

        // Assert
        Assert.Equal(expected: "host:example.com\nx-amz-meta-a:one two\nx-amz-meta-b:1,2\n", actual: sb.ToString());
    }

    [Fact]
    public void GetRawTarget_AbsoluteForm_UsesPathAndQuery()
    {
        // Arrange
        HttpRequest request = AwsExample.Request("GET", "http://examplebucket.s3.amazonaws.com/test%24file?x=1");

        // Act
        (string path, string query) = SigV4Canonical.GetRawTarget(request);

        // Assert
        Assert.Equal(expected: "/test%24file", actual: path);
        Assert.Equal(expected: "x=1", actual: query);
    }
}
