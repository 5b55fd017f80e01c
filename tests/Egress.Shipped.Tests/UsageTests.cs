using System.Text.RegularExpressions;

namespace Egress.Shipped.Tests;

/// <summary>Bare `egress`, every verb's --help (the verbs read from the artifact's own command list, so a new verb is
/// covered without editing this file), a mistyped verb and a mistyped option, through both artifacts.</summary>
public sealed partial class UsageTests
{
    public static TheoryData<string> Artifacts => ShippedTier.Artifacts;

    /// <summary>The names under "Commands:" in a help text: two spaces, the name; wrapped descriptions are indented further.</summary>
    [GeneratedRegex(@"^  ([a-z][a-z-]*)\b", RegexOptions.CultureInvariant)]
    private static partial Regex CommandLine();

    private static List<string> Commands(string help)
    {
        var section = help[(help.IndexOf("Commands:", StringComparison.Ordinal) + "Commands:".Length)..];
        return [.. section.Split('\n').Select(l => CommandLine().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value)];
    }

    [Theory]
    [MemberData(nameof(Artifacts))]
    public async Task Bare_NoArguments_Exit0AndListsEveryDocumentedVerb(string artifact)
    {
        var egress = (await ShippedTier.ArtifactAsync(artifact)).In(ShippedTier.NewDirectory("bare"));

        var bare = await egress.RunAsync(Exit.Ok);

        Assert.Equal(["init", "validate", "show", "cost", "render", "plan", "apply", "destroy", "status", "lab", "verify", "doctor"], Commands(bare.Output));
    }

    [Theory]
    [MemberData(nameof(Artifacts))]
    public async Task Help_EveryVerbAndLabVerb_Exit0WithItsUsage(string artifact)
    {
        var egress = (await ShippedTier.ArtifactAsync(artifact)).In(ShippedTier.NewDirectory("help"));
        var verbs = Commands((await egress.RunAsync(Exit.Ok, "--help")).Output).Select(v => new[] { v }).ToList();
        var lab = Commands((await egress.RunAsync(Exit.Ok, "lab", "--help")).Output);
        Assert.Contains("up", lab);
        verbs.AddRange(lab.Select(v => new[] { "lab", v }));

        foreach (var verb in verbs)
        {
            var help = await egress.RunAsync(Exit.Ok, [.. verb, "--help"]);
            Assert.Contains($"Usage:\n  egress {string.Join(' ', verb)}", help.Output, StringComparison.Ordinal);
        }

        Assert.True(verbs.Count >= 20, $"only {verbs.Count} verbs listed");
    }

    [Theory]
    [MemberData(nameof(Artifacts))]
    public async Task Verb_Mistyped_Exit2AndNamesTheNearest(string artifact)
    {
        var egress = (await ShippedTier.ArtifactAsync(artifact)).In(ShippedTier.NewDirectory("typo"));

        var validte = await egress.RunAsync(Exit.BadInput, "validte");
        var stauts = await egress.RunAsync(Exit.BadInput, "lab", "stauts");

        Assert.Contains("did you mean 'validate'?", validte.Error, StringComparison.Ordinal);
        Assert.Contains("did you mean 'status'?", stauts.Error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Artifacts))]
    public async Task Option_Mistyped_Exit2AndNamesTheNearest(string artifact)
    {
        var egress = (await ShippedTier.ArtifactAsync(artifact)).In(ShippedTier.NewDirectory("typo"));

        var output = await egress.RunAsync(Exit.BadInput, "validate", "--outptu", "json");
        var yes = await egress.RunAsync(Exit.BadInput, "apply", "--yse");
        var missing = await egress.RunAsync(Exit.BadInput, "render");

        Assert.Contains("unknown option '--outptu'; did you mean '--output'?", output.Error, StringComparison.Ordinal);
        Assert.Contains("did you mean '--yes'?", yes.Error, StringComparison.Ordinal);
        Assert.Contains("egress render --help", missing.Error, StringComparison.Ordinal);
    }
}
