// Invariant: every single Range form (a-b, a-, -n) resolves to the bytes S3 serves; unsatisfiable ranges are
// InvalidRange (416) and ranges S3 ignores serve the whole object.
using Predastore.Ingest.Auth;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Tests.S3;

public sealed class ByteRangeTests
{
    [Theory]
    [InlineData("bytes=0-0", 100, 0, 1)]
    [InlineData("bytes=0-99", 100, 0, 100)]
    [InlineData("bytes=10-19", 100, 10, 10)]
    [InlineData("bytes=90-500", 100, 90, 10)]
    [InlineData("bytes=10-", 100, 10, 90)]
    [InlineData("bytes=-10", 100, 90, 10)]
    [InlineData("bytes=-500", 100, 0, 100)]
    [InlineData("bytes=99-", 100, 99, 1)]
    public void Parse_Satisfiable_Resolves(string header, long size, long start, long length)
    {
        Assert.Equal(expected: new ByteRange(start, length), actual: ByteRange.Parse(header, size));
    }

    [Theory]
    [InlineData("bytes=100-", 100)]
    [InlineData("bytes=100-200", 100)]
    [InlineData("bytes=-0", 100)]
    [InlineData("bytes=0-0", 0)]
    [InlineData("bytes=-5", 0)]
    public void Parse_Unsatisfiable_ThrowsInvalidRange(string header, long size)
    {
        S3Exception error = Assert.Throws<S3Exception>(() => ByteRange.Parse(header, size));

        Assert.Equal(expected: "InvalidRange", actual: error.Code);
        Assert.Equal(expected: 416, actual: error.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("items=0-5")]
    [InlineData("bytes=5-1")]
    [InlineData("bytes=0-1,3-4")]
    [InlineData("bytes=a-b")]
    [InlineData("bytes=-")]
    public void Parse_NotASingleByteRange_ServesWholeObject(string? header)
    {
        Assert.Null(ByteRange.Parse(header, 100));
    }
}
