using HdrHistogram;

namespace Egress.Verify;

/// <summary>Percentiles of one phase in milliseconds (HdrHistogram, microsecond resolution, 3 significant digits).</summary>
public sealed record PhaseSummary(int Count, double P50, double P90, double P99, double Max);

public static class Statistics
{
    private const long HighestMicros = 3_600_000_000; // an hour: far beyond any request timeout

    /// <summary>Summarises durations in ms; null for no samples.</summary>
    public static PhaseSummary? Summarise(IEnumerable<double> millis)
    {
        ArgumentNullException.ThrowIfNull(millis);
        var histogram = new LongHistogram(HighestMicros, 3);
        foreach (var value in millis)
        {
            histogram.RecordValue(Math.Clamp((long)Math.Round(value * 1000), 0, HighestMicros));
        }

        if (histogram.TotalCount == 0)
        {
            return null;
        }

        return new PhaseSummary(
            (int)histogram.TotalCount,
            Ms(histogram.GetValueAtPercentile(50)),
            Ms(histogram.GetValueAtPercentile(90)),
            Ms(histogram.GetValueAtPercentile(99)),
            Ms(histogram.GetMaxValue()));
    }

    /// <summary>The empirical CDF: sorted values with the fraction of samples at or below each.</summary>
    public static IReadOnlyList<(double Value, double Fraction)> Cdf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return [.. sorted.Select((v, i) => (v, (i + 1) / (double)sorted.Length))];
    }

    private static double Ms(long micros) => micros / 1000.0;
}
