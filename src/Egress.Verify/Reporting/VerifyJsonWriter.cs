using System.Text.Json;
using Egress.Core;
using Egress.Verify.Probes;

namespace Egress.Verify.Reporting;

/// <summary>Writes a <see cref="VerifyReport"/> as the JSON documented in docs/verify.md (schemaVersion 1). Written by
/// hand, not by reflection, so that renaming a C# member can never change the schema silently.</summary>
public static class VerifyJsonWriter
{
    public static string Write(VerifyReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, EgressJson.WriterOptions))
        {
            Write(json, report);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray()).ReplaceLineEndings("\n") + "\n";
    }

    private static void Write(Utf8JsonWriter json, VerifyReport report)
    {
        json.WriteStartObject();
        json.WriteNumber("schemaVersion", report.SchemaVersion);
        json.WriteString("environment", report.Environment);
        json.WriteString("stack", report.Stack);
        json.WriteString("startedAt", report.StartedAt);
        json.WriteString("finishedAt", report.FinishedAt);
        json.WriteBoolean("passed", report.Passed);
        json.WriteBoolean("latencyEmulated", report.LatencyEmulated);
        json.WriteStartObject("reliability");
        json.WriteNumber("rounds", report.Rounds.Count);
        json.WriteNumber("passedRounds", report.PassedRounds);
        json.WriteEndObject();
        json.WriteStartObject("coldLatencyBudget");
        json.WriteNumber("minMs", report.ColdLatencyBudget.MinMs);
        json.WriteNumber("maxMs", report.ColdLatencyBudget.MaxMs);
        json.WriteBoolean("judged", report.ColdLatencyBudget.Judged);
        json.WriteString("basis", report.ColdLatencyBudget.Basis);
        json.WriteEndObject();

        json.WriteStartArray("failures");
        foreach (var round in report.Rounds)
        {
            foreach (var check in round.Checks.Where(c => c.Status == CheckStatus.Fail))
            {
                WriteCheck(json, check, round.Round);
            }
        }

        json.WriteEndArray();

        json.WriteStartArray("rounds");
        foreach (var round in report.Rounds)
        {
            json.WriteStartObject();
            json.WriteNumber("round", round.Round);
            json.WriteBoolean("passed", round.Passed);
            json.WriteStartArray("checks");
            foreach (var check in round.Checks)
            {
                WriteCheck(json, check, round: null);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartArray("latency");
        foreach (var latency in report.Latency)
        {
            json.WriteStartObject();
            json.WriteString("client", latency.Client);
            json.WriteString("target", latency.Target);
            WriteSummary(json, "cold", latency.Cold);
            WriteNullable(json, "coldBaselineMs", latency.ColdBaselineMs);
            WriteSummary(json, "keepAlive", latency.KeepAlive);
            WriteSamples(json, "coldSamplesMs", latency.ColdSamples);
            WriteSamples(json, "keepAliveSamplesMs", latency.KeepAliveSamples);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartArray("paths");
        foreach (var path in report.Paths)
        {
            json.WriteStartObject();
            json.WriteString("client", path.Client);
            json.WriteString("target", path.Trace.Target);
            json.WriteString("tool", path.Trace.Tool);
            json.WriteString("expectedFirstHop", path.ExpectedFirstHop);
            WriteNullable(json, "problem", path.Trace.Problem);
            json.WriteStartArray("hops");
            foreach (var hop in path.Trace.Hops)
            {
                json.WriteStartObject();
                json.WriteNumber("hop", hop.Number);
                json.WriteString("address", hop.Address);
                json.WriteNumber("lossPercent", hop.LossPercent);
                json.WriteNumber("sent", hop.Sent);
                WriteNullable(json, "lastMs", hop.LastMs);
                WriteNullable(json, "avgMs", hop.AvgMs);
                WriteNullable(json, "bestMs", hop.BestMs);
                WriteNullable(json, "worstMs", hop.WorstMs);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();

        json.WriteStartArray("egress");
        foreach (var identity in report.Egress)
        {
            json.WriteStartObject();
            json.WriteString("client", identity.Client);
            json.WriteString("gateway", identity.Gateway);
            json.WriteStartObject("expected");
            WriteNullable(json, "ip", identity.ExpectedIp);
            WriteNullable(json, "city", identity.ExpectedCity);
            WriteNullable(json, "country", identity.ExpectedCountry);
            json.WriteEndObject();
            if (identity.Observed is { } observed)
            {
                json.WriteStartObject("observed");
                WriteNullable(json, "ip", observed.Ip);
                WriteNullable(json, "city", observed.City);
                WriteNullable(json, "region", observed.Region);
                WriteNullable(json, "country", observed.Country);
                WriteNullable(json, "org", observed.Org);
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("observed");
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteCheck(Utf8JsonWriter json, CheckResult check, int? round)
    {
        json.WriteStartObject();
        if (round is { } r)
        {
            json.WriteNumber("round", r);
        }

        json.WriteString("id", check.Id);
        json.WriteString("area", Name(check.Area));
        json.WriteString("host", check.Host);
        WriteNullable(json, "target", check.Target);
        json.WriteString("status", Name(check.Status));
        json.WriteString("detail", check.Detail);
        json.WriteEndObject();
    }

    private static void WriteSummary(Utf8JsonWriter json, string name, LatencySummary summary)
    {
        json.WriteStartObject(name);
        json.WriteNumber("samples", summary.Samples);
        json.WriteNumber("failed", summary.Failed);
        json.WriteStartObject("phases");
        foreach (var (phase, stats) in summary.Phases.OrderBy(p => p.Key))
        {
            json.WriteStartObject(Name(phase));
            json.WriteNumber("count", stats.Count);
            json.WriteNumber("p50", stats.P50);
            json.WriteNumber("p90", stats.P90);
            json.WriteNumber("p99", stats.P99);
            json.WriteNumber("max", stats.Max);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteSamples(Utf8JsonWriter json, string name, IReadOnlyList<PhaseTimes> samples)
    {
        json.WriteStartArray(name);
        foreach (var sample in samples)
        {
            json.WriteStartObject();
            foreach (var phase in Enum.GetValues<Phase>())
            {
                json.WriteNumber(Name(phase), Math.Round(sample.Of(phase), 3));
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    /// <summary>The JSON spelling of an enum member: camelCase, NotJudged as "not-judged".</summary>
    public static string Name<T>(T value)
        where T : struct, Enum => value switch
        {
            CheckStatus.NotJudged => "not-judged",
            _ => JsonNamingPolicy.CamelCase.ConvertName(value.ToString()),
        };
}
