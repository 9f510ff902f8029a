// Invariant: every kernel this CPU supports writes byte-for-byte what the scalar oracle writes, for any matrix shape,
// any length (including lengths that are not a multiple of any vector width) and any buffer alignment, multiplies
// every byte by every coefficient as the 0x11D table does (the GFNI bit matrices included), and writes nothing outside
// its output cells (the overlapping last vector step stays inside); and the scalar oracle itself matches a per-byte
// model built on shift-and-add multiplication.

using Predastore.Encode;

namespace Predastore.Encode.Tests;

public class GfKernelsTests
{
    private static readonly int[] s_lengths = [1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 1000, 4099];
    private static readonly int[] s_offsets = [0, 1, 7];

    public static TheoryData<string> SupportedKernels() => new(SupportedKernelNames());

    public static TheoryData<string, int, int> KernelLengthOffset()
    {
        var data = new TheoryData<string, int, int>();
        foreach (GfKernel kernel in Enum.GetValues<GfKernel>())
        {
            if (!GfKernels.IsSupported(kernel))
            {
                continue;
            }

            foreach (int length in s_lengths)
            {
                foreach (int offset in s_offsets)
                {
                    data.Add(kernel.ToString(), length, offset);
                }
            }
        }

        return data;
    }

    [Fact]
    public void SupportedKernels_OnThisCpu_IncludeScalarAndReportEveryUnsupportedKernel()
    {
        // Arrange
        List<string> supported = SupportedKernelNames();

        // Assert
        Assert.Contains(nameof(GfKernel.Scalar), supported);
        Assert.True(GfKernels.IsSupported(GfKernels.Best));
        foreach (GfKernel kernel in Enum.GetValues<GfKernel>())
        {
            // A kernel missing from the theory data is one the CPU lacks, not one the tests forgot.
            Assert.Equal(expected: GfKernels.IsSupported(kernel), actual: supported.Contains(kernel.ToString()));
        }

        Assert.Equal(expected: supported[^1], actual: GfKernels.Best.ToString());
    }

    [Fact]
    public void Apply_UnsupportedKernel_ThrowsPlatformNotSupported()
    {
        foreach (GfKernel kernel in Enum.GetValues<GfKernel>())
        {
            if (GfKernels.IsSupported(kernel))
            {
                continue;
            }

            var matrix = new CodingMatrix([1], 1, 1);
            Assert.Throws<PlatformNotSupportedException>(
                () => GfKernels.Apply(kernel, matrix, [new byte[64]], [new byte[64]]));
        }
    }

    [Theory]
    [MemberData(nameof(KernelLengthOffset))]
    public void Apply_RandomShapeOddLengthUnaligned_MatchesOracle(string kernelName, int length, int offset)
    {
        // Arrange
        GfKernel kernel = Enum.Parse<GfKernel>(kernelName);
        var random = new Random(HashCode.Combine(kernelName, length, offset));
        int rows = random.Next(1, 17);
        int columns = random.Next(1, 33);
        CodingMatrix matrix = RandomMatrix(random, rows, columns);
        ReadOnlyMemory<byte>[] inputs = RandomBuffers(random, columns, length, offset);
        Memory<byte>[] expected = RandomBuffers(random, rows, length, offset + 3).Select(m => MemoryFromReadOnly(m)).ToArray();
        Memory<byte>[] actual = RandomBuffers(random, rows, length, offset + 5).Select(m => MemoryFromReadOnly(m)).ToArray();

        // Act: the scalar kernel is the oracle for the others, and the per-byte model is the oracle for it.
        if (kernel == GfKernel.Scalar)
        {
            ApplyModel(matrix, inputs, expected);
        }
        else
        {
            GfKernels.Apply(GfKernel.Scalar, matrix, inputs, expected);
        }

        GfKernels.Apply(kernel, matrix, inputs, actual);

        // Assert
        for (int o = 0; o < rows; o++)
        {
            Assert.Equal(expected: expected[o].ToArray(), actual: actual[o].ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(SupportedKernels))]
    public void Apply_EveryOutputCount_MatchesScalarOracle(string kernelName)
    {
        GfKernel kernel = Enum.Parse<GfKernel>(kernelName);
        var random = new Random(17);
        for (int rows = 1; rows <= 16; rows++)
        {
            // Arrange
            int columns = random.Next(1, 33);
            CodingMatrix matrix = RandomMatrix(random, rows, columns);
            ReadOnlyMemory<byte>[] inputs = RandomBuffers(random, columns, 300, 0);
            var expected = new Memory<byte>[rows];
            var actual = new Memory<byte>[rows];
            for (int o = 0; o < rows; o++)
            {
                expected[o] = new byte[300];
                actual[o] = new byte[300];
            }

            // Act
            GfKernels.Apply(GfKernel.Scalar, matrix, inputs, expected);
            GfKernels.Apply(kernel, matrix, inputs, actual);

            // Assert
            for (int o = 0; o < rows; o++)
            {
                Assert.Equal(expected: expected[o].ToArray(), actual: actual[o].ToArray());
            }
        }
    }

    [Theory]
    [MemberData(nameof(SupportedKernels))]
    public void Apply_FewerOutputsThanRows_WritesOnlyTheRowPrefix(string kernelName)
    {
        // Arrange
        GfKernel kernel = Enum.Parse<GfKernel>(kernelName);
        var random = new Random(23);
        CodingMatrix matrix = RandomMatrix(random, 7, 5);
        ReadOnlyMemory<byte>[] inputs = RandomBuffers(random, 5, 200, 0);
        var full = new Memory<byte>[7];
        for (int o = 0; o < full.Length; o++)
        {
            full[o] = new byte[200];
        }

        Memory<byte>[] prefix = [new byte[200], new byte[200], new byte[200]];

        // Act
        GfKernels.Apply(kernel, matrix, inputs, full);
        GfKernels.Apply(kernel, matrix, inputs, prefix);

        // Assert
        for (int o = 0; o < prefix.Length; o++)
        {
            Assert.Equal(expected: full[o].ToArray(), actual: prefix[o].ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(SupportedKernels))]
    public void Apply_EveryCoefficientOnEveryByte_MatchesMultiplicationTable(string kernelName)
    {
        // Arrange: input byte i is i, so one 1×1 product covers the coefficient's whole row of the table.
        GfKernel kernel = Enum.Parse<GfKernel>(kernelName);
        byte[] input = [.. Enumerable.Range(0, 256).Select(i => (byte)i)];
        var output = new byte[256];
        for (int c = 0; c < 256; c++)
        {
            var matrix = new CodingMatrix([(byte)c], 1, 1);

            // Act
            GfKernels.Apply(kernel, matrix, [input], [output]);

            // Assert
            byte[] expected = [.. Enumerable.Range(0, 256).Select(x => GaloisFieldTests.ReferenceMul((byte)c, (byte)x))];
            Assert.Equal(expected: expected, actual: output);
        }
    }

    [Fact]
    public void AffineMatrix_Identity_IsTheInstructionsIdentityMatrix()
    {
        // The documented identity of vgf2p8affineqb is 0x0102040810204080 (byte 7 − i selects bit i).
        Assert.Equal(expected: BitConverter.GetBytes(0x0102040810204080UL), actual: CodingMatrix.AffineMatrix(1));
        Assert.Equal(expected: new byte[8], actual: CodingMatrix.AffineMatrix(0));
    }

    [Theory]
    [MemberData(nameof(SupportedKernels))]
    public void Apply_LengthsAroundVectorMultiples_WritesOnlyInsideTheOutputs(string kernelName)
    {
        GfKernel kernel = Enum.Parse<GfKernel>(kernelName);
        var random = new Random(31);
        const int Guard = 80;
        foreach (int length in new[] { 63, 64, 65, 127, 128, 129, 191, 192, 193, 255, 257, 320, 383 })
        {
            // Arrange: each output is a slice between guard bytes that must survive.
            CodingMatrix matrix = RandomMatrix(random, 5, 3);
            ReadOnlyMemory<byte>[] inputs = RandomBuffers(random, 3, length, 0);
            var arrays = new byte[5][];
            var outputs = new Memory<byte>[5];
            for (int o = 0; o < outputs.Length; o++)
            {
                arrays[o] = Enumerable.Repeat((byte)0xA5, length + (2 * Guard)).ToArray();
                outputs[o] = arrays[o].AsMemory(Guard, length);
            }

            var expected = new Memory<byte>[5];
            for (int o = 0; o < expected.Length; o++)
            {
                expected[o] = new byte[length];
            }

            // Act
            GfKernels.Apply(GfKernel.Scalar, matrix, inputs, expected);
            GfKernels.Apply(kernel, matrix, inputs, outputs);

            // Assert
            for (int o = 0; o < outputs.Length; o++)
            {
                Assert.Equal(expected: expected[o].ToArray(), actual: outputs[o].ToArray());
                Assert.All(arrays[o].AsSpan(0, Guard).ToArray(), b => Assert.Equal(expected: (byte)0xA5, actual: b));
                Assert.All(arrays[o].AsSpan(Guard + length).ToArray(), b => Assert.Equal(expected: (byte)0xA5, actual: b));
            }
        }
    }

    [Theory]
    [MemberData(nameof(SupportedKernels))]
    public void Apply_RowsAndColumnsOfOnes_MatchScalarOracle(string kernelName)
    {
        // The kernels skip the multiplies of a first row or first column of ones; a matrix that is one coefficient short
        // of such a shape must not take that path. Every group size (1..9 outputs spans one and three groups), odd and
        // paired input counts, one- and two-vector steps.
        GfKernel kernel = Enum.Parse<GfKernel>(kernelName);
        var random = new Random(41);
        foreach (OnesShape shape in Enum.GetValues<OnesShape>())
        {
            for (int rows = 1; rows <= 9; rows++)
            {
                foreach (int columns in new[] { 1, 2, 3, 4, 7 })
                {
                    // Arrange
                    CodingMatrix matrix = MatrixWithOnes(random, rows, columns, shape);
                    ReadOnlyMemory<byte>[] inputs = RandomBuffers(random, columns, 333, 1);
                    Memory<byte>[] expected = [.. Enumerable.Range(0, rows).Select(_ => new Memory<byte>(new byte[333]))];
                    Memory<byte>[] actual = [.. Enumerable.Range(0, rows).Select(_ => new Memory<byte>(new byte[333]))];

                    // Act
                    GfKernels.Apply(GfKernel.Scalar, matrix, inputs, expected);
                    GfKernels.Apply(kernel, matrix, inputs, actual);

                    // Assert
                    for (int o = 0; o < rows; o++)
                    {
                        Assert.Equal(expected: expected[o].ToArray(), actual: actual[o].ToArray());
                    }
                }
            }
        }
    }

    [Fact]
    public void CodingMatrix_OnesShape_IsDetectedExactly()
    {
        var random = new Random(43);
        CodingMatrix both = MatrixWithOnes(random, 5, 4, OnesShape.RowAndColumn);
        CodingMatrix almostRow = MatrixWithOnes(random, 5, 4, OnesShape.AlmostRow);
        CodingMatrix almostColumn = MatrixWithOnes(random, 5, 4, OnesShape.AlmostColumn);

        Assert.True(both.FirstRowIsOnes);
        Assert.Equal(expected: 5, actual: both.LeadingOnesInFirstColumn);
        Assert.False(almostRow.FirstRowIsOnes);
        Assert.Equal(expected: 4, actual: almostColumn.LeadingOnesInFirstColumn);
    }

    [Fact]
    public void Best_OnThisCpu_PrefersGfniOverNibbleShuffles()
    {
        // Issue 3: GFNI (512, then 256 bits) first, then nibble shuffles from the widest vector down, then scalar.
        GfKernel expected = GfKernels.IsSupported(GfKernel.Gfni512) ? GfKernel.Gfni512
            : GfKernels.IsSupported(GfKernel.Gfni256) ? GfKernel.Gfni256
            : GfKernels.IsSupported(GfKernel.Vector512) ? GfKernel.Vector512
            : GfKernels.IsSupported(GfKernel.Vector256) ? GfKernel.Vector256
            : GfKernels.IsSupported(GfKernel.Vector128) ? GfKernel.Vector128
            : GfKernel.Scalar;

        Assert.Equal(expected: expected, actual: GfKernels.Best);
        Assert.Equal(expected: expected, actual: new ReedSolomon(4, 2).Kernel);
    }

    [Fact]
    public void ApplyScalar_RandomMatrix_MatchesPerByteModel()
    {
        // Arrange
        var random = new Random(29);
        const int Rows = 5;
        const int Columns = 9;
        const int Length = 257;
        CodingMatrix matrix = RandomMatrix(random, Rows, Columns);
        ReadOnlyMemory<byte>[] inputs = RandomBuffers(random, Columns, Length, 1);
        Memory<byte>[] outputs = RandomBuffers(random, Rows, Length, 2).Select(m => MemoryFromReadOnly(m)).ToArray();

        // Act
        GfKernels.Apply(GfKernel.Scalar, matrix, inputs, outputs);

        // Assert
        Memory<byte>[] expected = [.. Enumerable.Range(0, Rows).Select(_ => (Memory<byte>)new byte[Length])];
        ApplyModel(matrix, inputs, expected);
        for (int o = 0; o < Rows; o++)
        {
            Assert.Equal(expected: expected[o].ToArray(), actual: outputs[o].ToArray());
        }
    }

    [Fact]
    public void Apply_MismatchedArguments_Throw()
    {
        var matrix = new CodingMatrix(new byte[6], 2, 3);
        ReadOnlyMemory<byte>[] inputs = [new byte[8], new byte[8], new byte[8]];

        Assert.Throws<ArgumentException>(() => GfKernels.Apply(GfKernel.Scalar, matrix, inputs[..2], [new byte[8]]));
        Assert.Throws<ArgumentException>(
            () => GfKernels.Apply(GfKernel.Scalar, matrix, inputs, [new byte[8], new byte[8], new byte[8]]));
        Assert.Throws<ArgumentException>(
            () => GfKernels.Apply(GfKernel.Scalar, matrix, [new byte[8], new byte[7], new byte[8]], [new byte[8]]));
        Assert.Throws<ArgumentException>(() => GfKernels.Apply(GfKernel.Scalar, matrix, inputs, [new byte[9]]));
    }

    // The definition, one byte at a time with shift-and-add multiplication: shares no code with the kernels.
    internal static void ApplyModel(CodingMatrix matrix, ReadOnlyMemory<byte>[] inputs, Memory<byte>[] outputs)
    {
        for (int o = 0; o < outputs.Length; o++)
        {
            Span<byte> output = outputs[o].Span;
            for (int i = 0; i < output.Length; i++)
            {
                byte sum = 0;
                for (int j = 0; j < inputs.Length; j++)
                {
                    sum ^= GaloisFieldTests.ReferenceMul(matrix[o, j], inputs[j].Span[i]);
                }

                output[i] = sum;
            }
        }
    }

    // Ordered narrowest to widest, as GfKernel is.
    internal static List<string> SupportedKernelNames() =>
        Enum.GetValues<GfKernel>().Where(GfKernels.IsSupported).Select(kernel => kernel.ToString()).ToList();

    internal static CodingMatrix RandomMatrix(Random random, int rows, int columns)
    {
        var coefficients = new byte[rows * columns];
        random.NextBytes(coefficients);
        return new CodingMatrix(coefficients, rows, columns);
    }

    // Each buffer is a slice at `offset` into a larger array, so vector loads and stores are unaligned.
    internal static ReadOnlyMemory<byte>[] RandomBuffers(Random random, int count, int length, int offset)
    {
        var buffers = new ReadOnlyMemory<byte>[count];
        for (int i = 0; i < count; i++)
        {
            var array = new byte[length + offset + 11];
            random.NextBytes(array);
            buffers[i] = array.AsMemory(offset, length);
        }

        return buffers;
    }

    // Random coefficients other than 0 and 1, then the shape's ones.
    private static CodingMatrix MatrixWithOnes(Random random, int rows, int columns, OnesShape shape)
    {
        byte[] coefficients = [.. Enumerable.Range(0, rows * columns).Select(_ => (byte)random.Next(2, 256))];
        bool row = shape is OnesShape.Row or OnesShape.RowAndColumn or OnesShape.AlmostRow;
        bool column = shape is OnesShape.Column or OnesShape.RowAndColumn or OnesShape.AlmostColumn;
        if (row)
        {
            coefficients.AsSpan(0, columns).Fill(1);
        }

        if (column)
        {
            for (int o = 0; o < rows; o++)
            {
                coefficients[o * columns] = 1;
            }
        }

        // One coefficient short: the last of the row, or the last row's first.
        if (shape == OnesShape.AlmostRow)
        {
            coefficients[columns - 1] = 2;
        }
        else if (shape == OnesShape.AlmostColumn)
        {
            coefficients[(rows - 1) * columns] = 2;
        }

        return new CodingMatrix(coefficients, rows, columns);
    }

    private static Memory<byte> MemoryFromReadOnly(ReadOnlyMemory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.AsMemory(memory);
}

public enum OnesShape
{
    None,
    Row,
    Column,
    RowAndColumn,
    AlmostRow,
    AlmostColumn,
}
