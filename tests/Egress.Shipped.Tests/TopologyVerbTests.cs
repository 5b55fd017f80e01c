using System.Text.Json;

namespace Egress.Shipped.Tests;

/// <summary>The read-only verbs (init, validate, show, render, cost) for every example topology, text and JSON, through
/// both artifacts. `-o json` is worth running here on its own: the shipped build has no run-time code generation.</summary>
public sealed class TopologyVerbTests
{
    public static readonly string[] Examples = ["seed", "three-region", "failover"];

    public static TheoryData<string, string> ArtifactsAndExamples
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var artifact in ShippedTier.ArtifactNames)
            {
                foreach (var example in Examples)
                {
                    data.Add(artifact, example);
                }
            }

            return data;
        }
    }

    public static TheoryData<string> Artifacts => ShippedTier.Artifacts;

    /// <summary>`egress init --example NAME -f NAME.yaml` in a new directory.</summary>
    private static async Task<(EgressCommand Egress, string File)> InitAsync(string artifact, string example)
    {
        var egress = (await ShippedTier.ArtifactAsync(artifact)).In(ShippedTier.NewDirectory(example));
        var file = example + ".yaml";
        var init = await egress.RunAsync(Exit.Ok, "init", "--example", example, "-f", file);
        Assert.Contains($"Wrote {file}", init.Text, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(egress.WorkingDirectory, file)));
        return (egress, file);
    }

    [Theory]
    [MemberData(nameof(ArtifactsAndExamples))]
    public async Task InitValidateShow_Example_Exit0AndEveryFormatReadsBack(string artifact, string example)
    {
        var (egress, file) = await InitAsync(artifact, example);

        var again = await egress.RunAsync(Exit.BadInput, "init", "--example", example, "-f", file);
        await egress.RunAsync(Exit.Ok, "init", "--example", example, "-f", file, "--force");
        var valid = await egress.RunAsync(Exit.Ok, "validate", file);
        await egress.RunAsync(Exit.Ok, "validate", "-f", file);
        var validJson = await egress.RunAsync(Exit.Ok, "validate", file, "-o", "json");
        var yaml = await egress.RunAsync(Exit.Ok, "show", file);
        var yamlAgain = await egress.RunAsync(Exit.Ok, "show", "-f", file, "-o", "yaml");
        var json = await egress.RunAsync(Exit.Ok, "show", file, "-o", "json");

        Assert.Contains("already exists", again.Error, StringComparison.Ordinal);
        Assert.Contains($"Stack 'egress-{example}'", valid.Text, StringComparison.Ordinal);
        using (var document = JsonDocument.Parse(validJson.Output))
        {
            Assert.True(document.RootElement.GetProperty("valid").GetBoolean());
        }

        Assert.StartsWith($"stack: egress-{example}", yaml.Output, StringComparison.Ordinal);
        Assert.Equal(yaml.Output, yamlAgain.Output);
        using (var document = JsonDocument.Parse(json.Output))
        {
            Assert.Equal($"egress-{example}", document.RootElement.GetProperty("stack").GetString());
            Assert.True(document.RootElement.GetProperty("derived").GetProperty("tunnelMtu").GetInt32() > 0);
        }
    }

    [Theory]
    [MemberData(nameof(ArtifactsAndExamples))]
    public async Task Render_EveryHostEveryFormat_Exit0WithTheHostsConfiguration(string artifact, string example)
    {
        var (egress, file) = await InitAsync(artifact, example);
        using var shown = JsonDocument.Parse((await egress.RunAsync(Exit.Ok, "show", file, "-o", "json")).Output);
        var hosts = shown.RootElement.GetProperty("regions").EnumerateArray()
            .SelectMany(r => r.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("name").GetString()!)).ToList();
        Assert.True(hosts.Count >= 2, string.Join(", ", hosts));

        var byDefault = await egress.RunAsync(Exit.Ok, "render", hosts[0], file);
        foreach (var host in hosts)
        {
            var script = await egress.RunAsync(Exit.Ok, "render", host, file, "--format", "script");
            var cloudInit = await egress.RunAsync(Exit.Ok, "render", host, "-f", file, "--format", "cloud-init");
            var systemd = await egress.RunAsync(Exit.Ok, "render", host, file, "--format", "systemd");

            Assert.StartsWith("#!/bin/sh", script.Output, StringComparison.Ordinal);
            Assert.Contains($"egress-host: {host},", script.Output, StringComparison.Ordinal);
            if (host == hosts[0])
            {
                Assert.Equal(script.Output, byDefault.Output); // the script is the default format
            }

            Assert.StartsWith("#cloud-config", cloudInit.Output, StringComparison.Ordinal);
            Assert.Contains("[Unit]", systemd.Output, StringComparison.Ordinal);
            Assert.Contains(host, systemd.Output, StringComparison.Ordinal);
        }

        var unknown = await egress.RunAsync(Exit.BadInput, "render", "no-such-host", file);
        Assert.Contains($"Hosts: {string.Join(", ", hosts.Order(StringComparer.Ordinal))}", unknown.Error, StringComparison.Ordinal);
        await egress.RunAsync(Exit.BadInput, "render", hosts[0], file, "--format", "ansible");
    }

    [Theory]
    [MemberData(nameof(ArtifactsAndExamples))]
    public async Task Cost_Example_Exit0TextAndJsonWithEveryScenario(string artifact, string example)
    {
        var (egress, file) = await InitAsync(artifact, example);

        var text = await egress.RunAsync(Exit.Ok, "cost", file);
        var json = await egress.RunAsync(Exit.Ok, "cost", file, "-o", "json");
        var traffic = await egress.RunAsync(Exit.Ok, "cost", "-f", file, "--hours", "10", "--gb-out", "5", "--gb-in", "1", "-o", "json");

        Assert.Contains("saves", text.Output, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json.Output);
        Assert.Equal($"egress-{example}", document.RootElement.GetProperty("stack").GetString());
        Assert.True(document.RootElement.GetProperty("scenarios").GetArrayLength() >= 3);
        using var withTraffic = JsonDocument.Parse(traffic.Output);
        Assert.Equal(10, withTraffic.RootElement.GetProperty("hours").GetDouble());
    }

    [Theory]
    [MemberData(nameof(Artifacts))]
    public async Task ReadOnlyVerbs_NoFile_UseTheEmbeddedSeedAndSaySo(string artifact)
    {
        var egress = (await ShippedTier.ArtifactAsync(artifact)).In(ShippedTier.NewDirectory("nofile"));

        var validate = await egress.RunAsync(Exit.Ok, "validate");
        await egress.RunAsync(Exit.Ok, "show");
        await egress.RunAsync(Exit.Ok, "cost");
        await egress.RunAsync(Exit.Ok, "render", "sg-client");
        var prices = await egress.RunAsync(Exit.Ok, "cost", "--default-prices");

        Assert.Contains("embedded seed topology", validate.Error, StringComparison.Ordinal);
        using var table = JsonDocument.Parse(prices.Output);
        Assert.Equal("USD", table.RootElement.GetProperty("currency").GetString());
    }

    [Theory]
    [MemberData(nameof(Artifacts))]
    public async Task Validate_BrokenFile_Exit2WithLineColumnAndFix(string artifact)
    {
        var egress = (await ShippedTier.ArtifactAsync(artifact)).In(ShippedTier.NewDirectory("broken"));
        await File.WriteAllTextAsync(Path.Combine(egress.WorkingDirectory, "bad.yaml"), "stack: egress-bad\nregions:\n  - name: mars-1\n    vpc: 10.0.0.0/16\n");

        var text = await egress.RunAsync(Exit.BadInput, "validate", "bad.yaml");
        var json = await egress.RunAsync(Exit.BadInput, "validate", "bad.yaml", "-o", "json");
        var missing = await egress.RunAsync(Exit.BadInput, "validate", "missing.yaml");
        var show = await egress.RunAsync(Exit.BadInput, "show", "bad.yaml");

        Assert.Contains("bad.yaml:3:11: error: regions[0].name: 'mars-1' is not an AWS region", text.Text, StringComparison.Ordinal);
        Assert.Contains("fix:", text.Text, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json.Output);
        Assert.False(document.RootElement.GetProperty("valid").GetBoolean());
        Assert.Contains("no such file", missing.Error, StringComparison.Ordinal);
        Assert.Contains("mars-1", show.Error, StringComparison.Ordinal);
    }

    /// <summary>Issue 24: the alias bomb (a region anchor with 200 subnets, aliased 63 times: 1.4 KB that took minutes and
    /// 1 GB, printing 2.5 million errors), /dev/zero as the topology, an explicit tag and an empty stack name are each one
    /// located error, exit 2, fast.</summary>
    [Theory]
    [MemberData(nameof(Artifacts))]
    public async Task Validate_HostileFile_Exit2FastWithOneLocatedError(string artifact)
    {
        var egress = (await ShippedTier.ArtifactAsync(artifact)).In(ShippedTier.NewDirectory("hostile"));
        var bomb = new System.Text.StringBuilder("stack: bomb\nregions:\n  - &r\n    name: ap-southeast-1\n    vpc: 10.0.0.0/16\n    subnets: [&s {cidr: 10.0.1.0/24}");
        bomb.Append(string.Concat(Enumerable.Repeat(", *s", 199))).Append("]\n    hosts: [{name: c, role: client, privateIp: 10.0.1.10, egressVia: [g]}]\n");
        bomb.Append(string.Concat(Enumerable.Repeat("  - *r\n", 63)));
        await File.WriteAllTextAsync(Path.Combine(egress.WorkingDirectory, "bomb.yaml"), bomb.ToString());
        await File.WriteAllTextAsync(Path.Combine(egress.WorkingDirectory, "tag.yaml"), "stack: !!map x\n");
        var seed = (await egress.RunAsync(Exit.Ok, "show")).Output;
        await File.WriteAllTextAsync(Path.Combine(egress.WorkingDirectory, "empty.yaml"), seed.Replace("stack: egress-seed", "stack: \"\"", StringComparison.Ordinal));

        var aliases = await egress.RunAsync(Exit.BadInput, "validate", "bomb.yaml");
        var zero = await egress.RunAsync(Exit.BadInput, "validate", "/dev/zero");
        var plan = await egress.RunAsync(Exit.BadInput, "plan", "-f", "/dev/zero");
        var tag = await egress.RunAsync(Exit.BadInput, "validate", "tag.yaml");
        var empty = await egress.RunAsync(Exit.BadInput, "validate", "empty.yaml");

        Assert.Matches(@"^bomb\.yaml:\d+:5: error: regions\[\d+\]: the aliases expand the document past 20000 nodes", aliases.Error);
        Assert.Contains("bomb.yaml: 1 error.", aliases.Output, StringComparison.Ordinal);
        Assert.StartsWith("/dev/zero:1:1: error: the file is larger than 1024 KiB", zero.Error, StringComparison.Ordinal);
        Assert.Contains("/dev/zero:1:1: error: the file is larger than 1024 KiB", plan.Error, StringComparison.Ordinal);
        Assert.StartsWith("tag.yaml:1:8: error: stack: YAML tag '!!map' is not allowed in a topology", tag.Error, StringComparison.Ordinal);
        Assert.Contains("error: stack: the stack name is empty", empty.Error, StringComparison.Ordinal);
        foreach (var run in new[] { aliases, zero, plan, tag })
        {
            // Measured well under a second each; 10 s allows a loaded machine and the artifact's start-up.
            Assert.True(run.Elapsed < TimeSpan.FromSeconds(10), run.Describe());
        }
    }
}
