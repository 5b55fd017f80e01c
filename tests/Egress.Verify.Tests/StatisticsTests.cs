namespace Egress.Verify.Tests;

public class StatisticsTests
{
    [Fact]
    public void Summarise_OneToHundred_PercentilesWithinHistogramPrecision()
    {
        var summary = Statistics.Summarise(Enumerable.Range(1, 100).Select(i => (double)i));

        Assert.NotNull(summary);
        Assert.Equal(100, summary.Count);
        Assert.Equal(50, summary.P50, 0.05);
        Assert.Equal(90, summary.P90, 0.1);
        Assert.Equal(99, summary.P99, 0.1);
        Assert.Equal(100, summary.Max, 0.1);
    }

    [Fact]
    public void Summarise_OneOutlier_ShowsInMaxAndP99NotP50()
    {
        var values = Enumerable.Repeat(72.0, 99).Append(1500.0);

        var summary = Statistics.Summarise(values)!;

        Assert.Equal(72, summary.P50, 0.1);
        Assert.Equal(72, summary.P90, 0.1);
        Assert.Equal(1500, summary.Max, 1.5);
    }

    [Fact]
    public void Summarise_SubMillisecond_KeepsMicroseconds()
    {
        var summary = Statistics.Summarise([0.019, 0.021, 0.023])!;

        Assert.Equal(0.021, summary.P50, 3);
        Assert.Equal(0.023, summary.Max, 3);
    }

    [Fact]
    public void Summarise_Empty_IsNull() => Assert.Null(Statistics.Summarise([]));

    [Fact]
    public void Summarise_NegativeValue_ClampedToZeroNotThrown() => Assert.Equal(0, Statistics.Summarise([-1.0])!.Max);

    [Fact]
    public void Cdf_SortsAndAccumulates()
    {
        var cdf = Statistics.Cdf([30.0, 10.0, 20.0, 40.0]);

        Assert.Equal([(10.0, 0.25), (20.0, 0.5), (30.0, 0.75), (40.0, 1.0)], cdf);
    }
}
