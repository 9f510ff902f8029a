// Invariant: one ReedSolomon instance is safe to share — many threads encoding and reconstructing different erasure
// patterns at once (including while the plan cache fills and is cleared) each get exactly their original bytes back.

using Predastore.Encode;

namespace Predastore.Encode.Tests;

public class ReedSolomonConcurrencyTests
{
    [Fact]
    public void Reconstruct_ManyThreadsDifferentPatternsOneInstance_EachRestoresItsOwnStripe()
    {
        // Arrange
        const int Threads = 6;
        const int Iterations = 400;
        var code = new ReedSolomon(8, 4);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new ManualResetEventSlim();
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int seed = t;
            threads[t] = new Thread(() =>
            {
                var random = new Random(seed);
                var stripe = new Stripe(code, 1 + random.Next(2000), random);
                start.Wait();
                try
                {
                    for (int i = 0; i < Iterations && failures.IsEmpty; i++)
                    {
                        int[] erased = Enumerable.Range(0, code.TotalShards)
                            .OrderBy(_ => random.Next())
                            .Take(random.Next(1, code.ParityShards + 1))
                            .ToArray();
                        bool[] present = stripe.Erase(erased);
                        code.Reconstruct(stripe.Shards, present);
                        code.Encode(stripe.Data, stripe.Parity);
                        for (int s = 0; s < code.TotalShards; s++)
                        {
                            if (!stripe.Original(s).AsSpan().SequenceEqual(stripe.Shards[s].Span))
                            {
                                failures.Enqueue($"thread {seed} iteration {i} shard {s} erased [{string.Join(",", erased)}]");
                            }
                        }
                    }
                }
                catch (Exception exception)
                {
                    failures.Enqueue($"thread {seed}: {exception}");
                }
            });
            threads[t].Start();
        }

        // Act
        start.Set();
        bool allJoined = threads.All(thread => thread.Join(TimeSpan.FromSeconds(30)));

        // Assert
        Assert.True(allJoined, "A reconstructing thread did not finish within 30 s.");
        Assert.Empty(failures);
    }
}
