// Invariant 2: one object-hash function, SHA-256 of bucket + "/" + key in UTF-8, for every path.
using System.Security.Cryptography;
using System.Text;
using Predastore.Transport.Placement;

namespace Predastore.Transport.Tests;

public sealed class ObjectHashTests
{
    [Theory]
    [InlineData("bucket", "key")]
    [InlineData("images", "vm/noble-server-cloudimg-amd64.img")]
    [InlineData("b", "ключ/日本語 with spaces")]
    public void Compute_Any_IsSha256OfBucketSlashKey(string bucket, string key)
    {
        byte[] expected = SHA256.HashData(Encoding.UTF8.GetBytes(bucket + "/" + key));

        Assert.Equal(expected: expected, actual: ObjectHash.Compute(bucket, key));
    }

    [Fact]
    public void Compute_SameFileNameInOtherFolder_Differs()
    {
        // The field report placed by file name alone; two keys sharing a file name must not share a hash.
        Assert.NotEqual(ObjectHash.Compute("b", "a/disk.img"), ObjectHash.Compute("b", "c/disk.img"));
        Assert.NotEqual(ObjectHash.Compute("b1", "disk.img"), ObjectHash.Compute("b2", "disk.img"));
    }

    [Fact]
    public void Compute_LongestKey_Works()
    {
        string key = new('k', 1024);
        Assert.Equal(expected: SHA256.HashData(Encoding.UTF8.GetBytes("bucket/" + key)), actual: ObjectHash.Compute("bucket", key));
    }
}
