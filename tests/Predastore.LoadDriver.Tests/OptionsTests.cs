// Invariant: the command line means what the usage text says: sizes with binary and decimal units, the three
// size-distribution forms stay within their bounds, and percentiles of the latency histogram are within 3% of exact.
namespace Predastore.LoadDriver.Tests;

public sealed class OptionsTests
{
    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("64KiB", 65536L)]
    [InlineData("1MiB", 1048576L)]
    [InlineData("1M", 1048576L)]
    [InlineData("1MB", 1000000L)]
    [InlineData("1.5GiB", 1610612736L)]
    public void ParseBytes_Units_BinaryAndDecimal(string text, long expected) =>
        Assert.Equal(expected: expected, actual: SizeDistribution.ParseBytes(text));

    [Fact]
    public void SizeDistribution_LogUniformRange_StaysWithinBounds()
    {
        // Arrange
        SizeDistribution sizes = SizeDistribution.Parse("4KiB..16MiB");
        var random = new Random(7);

        // Act
        long[] drawn = [.. Enumerable.Range(0, 10_000).Select(_ => sizes.Next(random))];

        // Assert
        Assert.All(drawn, s => Assert.InRange(s, 4096, 16 * 1024 * 1024));
        Assert.Contains(drawn, s => s < 64 * 1024);
        Assert.Contains(drawn, s => s > 4 * 1024 * 1024);
    }

    [Fact]
    public void SizeDistribution_Weighted_DrawsOnlyListedSizesInProportion()
    {
        // Arrange
        SizeDistribution sizes = SizeDistribution.Parse("1MiB:3,64MiB:1");
        var random = new Random(7);

        // Act
        long[] drawn = [.. Enumerable.Range(0, 10_000).Select(_ => sizes.Next(random))];

        // Assert
        Assert.All(drawn, s => Assert.Contains(s, new[] { 1L << 20, 64L << 20 }));
        Assert.InRange(drawn.Count(s => s == 1L << 20), 7000, 8000);
    }

    [Fact]
    public void Parse_NoCredentials_Rejected() =>
        Assert.Throws<ArgumentException>(() => DriverOptions.Parse(["--access-key", string.Empty, "--secret-key", string.Empty]));

    [Fact]
    public void LatencyHistogram_Percentiles_WithinThreePercentOfExact()
    {
        // Arrange
        var histogram = new LatencyHistogram();
        long[] values = [.. Enumerable.Range(1, 100_000).Select(i => (long)i * 37)];

        // Act
        foreach (long v in values)
        {
            histogram.Record(v);
        }

        // Assert
        foreach (double p in new[] { 50.0, 90.0, 99.0 })
        {
            long exact = values[(int)Math.Ceiling(p / 100 * values.Length) - 1];
            Assert.InRange(histogram.Percentile(p), exact, exact * 1.03);
        }

        Assert.Equal(expected: values[^1], actual: histogram.Percentile(100));
        Assert.Equal(expected: values[^1], actual: histogram.Max);
    }
}
