// Invariant: bucket names follow S3's rules; anything else is InvalidBucketName before anything is stored.
using Predastore.Ingest.Auth;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Tests.S3;

public sealed class BucketNameTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("my-bucket.images")]
    [InlineData("123")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890123")]
    public void Validate_Valid_Passes(string name) => BucketName.Validate(name);

    [Theory]
    [InlineData("ab")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    [InlineData("MyBucket")]
    [InlineData("my_bucket")]
    [InlineData("-bucket")]
    [InlineData("bucket-")]
    [InlineData("my..bucket")]
    [InlineData("my.-bucket")]
    [InlineData("192.168.1.1")]
    [InlineData("xn--bucket")]
    public void Validate_Invalid_ThrowsInvalidBucketName(string name)
    {
        S3Exception error = Assert.Throws<S3Exception>(() => BucketName.Validate(name));

        Assert.Equal(expected: "InvalidBucketName", actual: error.Code);
    }
}
