// Invariant: a ReedSolomon forced onto any kernel the CPU supports writes the same parity as the scalar oracle and
// rebuilds every pattern of up to two erased shards (data-only too) to the original bytes, whether
// the cells are arrays or come from a MemoryManager; a kernel the CPU lacks is refused up front.

using System.Buffers;
using Predastore.Encode;

namespace Predastore.Encode.Tests;

public class ReedSolomonKernelTests
{
    public static TheoryData<string> SupportedKernels() => new(GfKernelsTests.SupportedKernelNames());

    [Theory]
    [MemberData(nameof(SupportedKernels))]
    public void EncodeAndReconstruct_ForcedKernelEveryPatternOfSmallCodes_MatchScalarAndRestore(string kernelName)
    {
        GfKernel kernel = Enum.Parse<GfKernel>(kernelName);
        var random = new Random(HashCode.Combine(kernelName));
        foreach ((int k, int m, int length) in new[] { (2, 1, 1000), (3, 2, 4099), (4, 2, 200), (8, 3, 777), (10, 4, 130) })
        {
            // Arrange
            var oracle = new ReedSolomon(k, m, GfKernel.Scalar);
            var code = new ReedSolomon(k, m, kernel);
            var stripe = new Stripe(oracle, length, random, offset: 3);

            // Act
            Memory<byte>[] parity = [.. Enumerable.Range(0, m).Select(_ => (Memory<byte>)new byte[length])];
            code.Encode(stripe.Data, parity);

            // Assert
            for (int p = 0; p < m; p++)
            {
                Assert.Equal(expected: stripe.Original(k + p), actual: parity[p].ToArray());
            }

            foreach (int[] erased in ReedSolomonTests.ErasurePatterns(k + m, Math.Min(m, 2)))
            {
                foreach (bool dataOnly in new[] { false, true })
                {
                    bool[] present = stripe.Erase(erased);
                    code.Reconstruct(stripe.Shards, present, dataOnly);
                    for (int i = 0; i < (dataOnly ? k : k + m); i++)
                    {
                        Assert.True(
                            stripe.Original(i).AsSpan().SequenceEqual(stripe.Shards[i].Span),
                            $"{kernelName} RS({k},{m}) erased [{string.Join(",", erased)}] dataOnly {dataOnly}: shard {i}");
                    }

                    // Restore parity a data-only pass left erased, for the next pattern.
                    for (int i = k; i < k + m; i++)
                    {
                        stripe.Original(i).CopyTo(stripe.Shards[i]);
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(SupportedKernels))]
    public void EncodeAndReconstruct_MemoryManagerCells_MatchArrayCells(string kernelName)
    {
        // Arrange
        var code = new ReedSolomon(4, 2, Enum.Parse<GfKernel>(kernelName));
        var stripe = new Stripe(code, 1500, new Random(41));
        using var managers = new ManagedCells(6, 1500);
        for (int i = 0; i < 4; i++)
        {
            stripe.Original(i).CopyTo(managers.Cells[i]);
        }

        // Act
        code.Encode([.. managers.Cells[..4].Select(c => (ReadOnlyMemory<byte>)c)], managers.Cells[4..]);
        managers.Cells[1].Span.Clear();
        managers.Cells[4].Span.Clear();
        code.Reconstruct(managers.Cells, [true, false, true, true, false, true]);

        // Assert
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(expected: stripe.Original(i), actual: managers.Cells[i].ToArray());
        }
    }

    [Fact]
    public void Constructor_UnsupportedKernel_ThrowsPlatformNotSupported()
    {
        foreach (GfKernel kernel in Enum.GetValues<GfKernel>().Where(k => !GfKernels.IsSupported(k)))
        {
            Assert.Throws<PlatformNotSupportedException>(() => new ReedSolomon(4, 2, kernel));
        }
    }

    // Cells a MemoryManager hands out (as pooled native buffers are), so Memory<byte> is not array-backed.
    private sealed class ManagedCells : IDisposable
    {
        private readonly ManagedCell[] _cells;

        public ManagedCells(int count, int length)
        {
            _cells = [.. Enumerable.Range(0, count).Select(_ => new ManagedCell(length))];
            Cells = [.. _cells.Select(c => c.Memory)];
        }

        public Memory<byte>[] Cells { get; }

        public void Dispose()
        {
            foreach (ManagedCell cell in _cells)
            {
                ((IDisposable)cell).Dispose();
            }
        }
    }

    private sealed class ManagedCell : MemoryManager<byte>
    {
        private readonly byte[] _bytes;

        public ManagedCell(int length) => _bytes = new byte[length];

        public override Span<byte> GetSpan() => _bytes;

        public override MemoryHandle Pin(int elementIndex = 0) => _bytes.AsMemory(elementIndex).Pin();

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
