// Crc32C.Hash is System.IO.Hashing's CRC32C of its pieces back to back, whatever their lengths and alignment: the
// 512-bit fold's main loop, its 64- and 16-byte steps, its byte tail and pieces too short to fold all agree with the
// library, so the read path checks a record exactly as the writer (System.IO.Hashing) summed it. On a CPU without
// 512-bit carry-less multiply only the fallback (the library itself) runs.
using System.IO.Hashing;

namespace Predastore.Wal.Tests;

public sealed class Crc32CTests
{
    [Fact]
    public void Hash_PiecesOfEveryLengthAndAlignment_MatchesSystemIoHashing()
    {
        // Arrange: every length up to four folds and then some, and a few long ones, at random offsets and cuts
        var random = new Random(81);
        byte[] data = Bytes.Random(random, (3 * 1024 * 1024) + 64);
        int[] lengths = [.. Enumerable.Range(0, 1100), 4095, 4096, 64 * 1024, (64 * 1024) + 96, 1024 * 1024, 3 * 1024 * 1024];
        foreach (int length in lengths)
        {
            ReadOnlySpan<byte> whole = data.AsSpan(random.Next(64), length);
            int firstCut = random.Next(length + 1);
            int secondCut = random.Next(firstCut, length + 1);
            uint expected = Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, whole);

            // Act
            uint hash = Crc32C.Hash(whole[..firstCut], whole[firstCut..secondCut], whole[secondCut..]);

            // Assert
            Assert.Equal(expected: expected, actual: hash);
            if (Crc32C.IsVector512Supported)
            {
                Assert.Equal(expected: expected, actual: ~Crc32C.UpdateVector512(uint.MaxValue, whole));
            }
        }
    }
}
