// Invariant: a body whose x-amz-content-sha256 declared a hex SHA-256 reaches end of stream only if it hashes to
// that value; otherwise the last read throws XAmzContentSHA256Mismatch (400), before the caller can commit.
using System.Security.Cryptography;
using Predastore.Ingest.Auth;
using Predastore.Ingest.S3;

namespace Predastore.Ingest.Tests.Auth;

public sealed class SignedPayloadReaderTests
{
    private const string WelcomeSha256 = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(4096)]
    public async Task ReadAsync_BodyMatchingHash_ReturnsBodyThenEnd(int step)
    {
        // Arrange
        byte[] body = AuthTestIo.Ascii("Welcome to Amazon S3.");
        await using var reader = new SignedPayloadReader(AuthTestIo.Feed(body, 3, step), WelcomeSha256);

        // Act
        byte[] read = await AuthTestIo.ReadAllAsync(reader, 4);

        // Assert
        Assert.Equal(expected: body, actual: read);
        Assert.Equal(expected: body.Length, actual: reader.BytesRead);
    }

    [Fact]
    public async Task ReadAsync_EmptyBodyWithEmptyHash_ReturnsEnd()
    {
        // Arrange
        await using var reader = new SignedPayloadReader(AuthTestIo.Feed([]), Convert.ToHexStringLower(SHA256.HashData([])));

        // Act
        byte[] read = await AuthTestIo.ReadAllAsync(reader);

        // Assert
        Assert.Empty(read);
    }

    [Fact]
    public async Task ReadAsync_TamperedBody_IsXAmzContentSha256Mismatch()
    {
        // Arrange
        await using var reader = new SignedPayloadReader(AuthTestIo.Feed(AuthTestIo.Ascii("Welcome to Amazon S4.")), WelcomeSha256);

        // Act
        S3Exception error = await Assert.ThrowsAsync<S3Exception>(() => AuthTestIo.ReadAllAsync(reader)).DefaultTimeout();

        // Assert
        Assert.Equal(expected: "XAmzContentSHA256Mismatch", actual: error.Code);
        Assert.Equal(expected: 400, actual: error.StatusCode);
    }

    [Fact]
    public async Task Read_Synchronous_IsNotSupported()
    {
        // Arrange
        await using var reader = new SignedPayloadReader(AuthTestIo.Feed([]), WelcomeSha256);

        // Act
        Exception error = Record.Exception(() => reader.Read(new byte[1], 0, 1));

        // Assert
        Assert.IsType<NotSupportedException>(error);
    }
}
