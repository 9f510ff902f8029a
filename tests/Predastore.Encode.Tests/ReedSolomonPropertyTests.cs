// Invariant: for random codes up to RS(16,8), parity equals the reference model (each parity byte is the GF(2^8) dot
// product, by shift-and-add multiplication, of its encoding-matrix row with the data bytes), and
// encode → erase up to M random shards → reconstruct gives back every original byte.

using Predastore.Encode;

namespace Predastore.Encode.Tests;

public class ReedSolomonPropertyTests
{
    [Fact]
    public void EncodeEraseReconstruct_RandomCodesUpToRs16x8_RestoresOriginal()
    {
        var random = new Random(2024);
        for (int trial = 0; trial < 150; trial++)
        {
            // Arrange
            int dataShards = random.Next(1, 17);
            int parityShards = random.Next(0, 9);
            int length = random.Next(0, 3000);
            var code = new ReedSolomon(dataShards, parityShards);
            var stripe = new Stripe(code, length, random, offset: random.Next(0, 8));
            int[] erased = Enumerable.Range(0, code.TotalShards)
                .OrderBy(_ => random.Next())
                .Take(random.Next(0, parityShards + 1))
                .ToArray();
            bool[] present = stripe.Erase(erased, fill: (byte)random.Next(256));
            bool dataOnly = random.Next(2) == 0;
            string context = $"RS({dataShards},{parityShards}) length {length} erased [{string.Join(",", erased)}] dataOnly {dataOnly}";

            // Act
            code.Reconstruct(stripe.Shards, present, dataOnly);

            // Assert
            for (int i = 0; i < (dataOnly ? dataShards : code.TotalShards); i++)
            {
                Assert.True(stripe.Original(i).AsSpan().SequenceEqual(stripe.Shards[i].Span), $"{context}: shard {i}");
            }
        }
    }

    [Fact]
    public void Encode_RandomCodes_MatchesReferenceModel()
    {
        var random = new Random(99);
        for (int trial = 0; trial < 40; trial++)
        {
            // Arrange
            int dataShards = random.Next(1, 17);
            int parityShards = random.Next(1, 9);
            int length = random.Next(1, 300);
            var code = new ReedSolomon(dataShards, parityShards);

            // Act
            var stripe = new Stripe(code, length, random);

            // Assert
            byte[] matrix = code.EncodingMatrix.ToArray();
            for (int p = 0; p < parityShards; p++)
            {
                var expected = new byte[length];
                for (int i = 0; i < length; i++)
                {
                    for (int j = 0; j < dataShards; j++)
                    {
                        byte coefficient = matrix[((dataShards + p) * dataShards) + j];
                        expected[i] ^= GaloisFieldTests.ReferenceMul(coefficient, stripe.Original(j)[i]);
                    }
                }

                Assert.Equal(expected: expected, actual: stripe.Original(dataShards + p));
            }
        }
    }
}
