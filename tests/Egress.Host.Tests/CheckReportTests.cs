using Egress.Host.Rendering;

namespace Egress.Host.Tests;

public sealed class CheckReportTests
{
    [Fact]
    public void Parse_ScriptOutput_ReadsEveryField()
    {
        var report = CheckReport.Parse("""
            {"host":"sg-client","ok":true,"invariants":[{"name":"tunnel.up","ok":true,"detail":"eg1 up"},{"name":"qdisc.fq","ok":true,"detail":"not available: no net/core/default_qdisc"}],"warnings":["fq not available: no net/core/default_qdisc"]}
            """);

        Assert.Equal(("sg-client", true), (report.Host, report.Ok));
        Assert.Equal([new CheckInvariant("tunnel.up", true, "eg1 up"), new CheckInvariant("qdisc.fq", true, "not available: no net/core/default_qdisc")], report.Invariants);
        Assert.Equal(["fq not available: no net/core/default_qdisc"], report.Warnings);
        Assert.Empty(report.Failures);
    }

    [Fact]
    public void Parse_ScriptSaysOkButAnInvariantFailed_IsNotOk()
    {
        var report = CheckReport.Parse("""{"host":"h","ok":true,"invariants":[{"name":"nat.table","ok":false,"detail":"missing"}],"warnings":[]}""");

        Assert.False(report.Ok);
        Assert.Equal("nat.table", Assert.Single(report.Failures).Name);
    }

    [Fact]
    public void Parse_NoInvariants_IsNotOk()
    {
        Assert.False(CheckReport.Parse("""{"host":"h","ok":true,"invariants":[],"warnings":[]}""").Ok);
    }

    [Theory]
    [InlineData("", "printed nothing")]
    [InlineData("egress-host[h]: error: 'nft' is not installed", "not valid JSON")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("""{"ok":true,"invariants":[]}""", "no \"host\" property")]
    [InlineData("""{"schemaVersion":2,"host":"h","ok":true,"invariants":[{"name":"x","ok":true,"detail":"d"}]}""", "printed schemaVersion 2; this egress reads 1")]
    [InlineData("""{"schemaVersion":"1","host":"h","ok":true,"invariants":[{"name":"x","ok":true,"detail":"d"}]}""", "printed schemaVersion \"1\"")]
    [InlineData("""{"host":"h","ok":"yes","invariants":[]}""", "the report.ok must be true or false")]
    [InlineData("""{"host":"h","ok":true,"invariants":{}}""", "the report.invariants must be an array")]
    [InlineData("""{"host":"h","ok":true,"invariants":[{"name":"x","ok":true}]}""", "invariants[0] has no \"detail\" property")]
    [InlineData("""{"host":"h","ok":true,"invariants":[],"warnings":[1]}""", "warnings[0] must be a string")]
    public void Parse_BadInput_ThrowsFormatExceptionSayingWhat(string json, string message)
    {
        var ex = Assert.Throws<FormatException>(() => CheckReport.Parse(json));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, "tokyo-nat-c (eg2)", "tokyo-nat-c", "via tokyo-nat-c")]
    [InlineData(false, "no gateway alive: egress refused (fail-closed)", null, "no gateway alive: egress refused (fail-closed)")]
    public void Parse_ClientReport_GivesTheActiveGateway(bool ok, string detail, string? active, string egress)
    {
        var json = $$"""{"host":"sg-client","ok":{{(ok ? "true" : "false")}},"invariants":[{"name":"failover.active-gateway","ok":{{(ok ? "true" : "false")}},"detail":"{{detail}}"}],"warnings":[]}""";

        var report = CheckReport.Parse(json);

        Assert.Equal((active, egress), (report.ActiveGateway, report.EgressState));
    }

    [Fact]
    public void Parse_GatewayReport_HasNoActiveGateway()
    {
        var report = CheckReport.Parse("""{"host":"tokyo-nat","ok":true,"invariants":[{"name":"nat.table","ok":true,"detail":"x"}],"warnings":[]}""");

        Assert.Equal((null, null), (report.ActiveGateway, report.EgressState));
    }
}
