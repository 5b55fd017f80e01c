using System.CommandLine;

namespace Egress.Cli;

/// <summary>What --output selects. A class, not an enum: System.CommandLine's Option&lt;T&gt; over an enum of egress's has
/// no ReadyToRun code and was JIT-compiled on every start (a dozen methods of 'egress validate'; bench/startup.sh,
/// StartupTests); over a class it runs System.CommandLine's precompiled shared code.</summary>
internal sealed class OutputFormat
{
    public static readonly OutputFormat Text = new("text");
    public static readonly OutputFormat Yaml = new("yaml");
    public static readonly OutputFormat Json = new("json");

    private OutputFormat(string name) => Name = name;

    /// <summary>The name on the command line.</summary>
    public string Name { get; }

    public override string ToString() => Name;
}

internal static class OutputFormatOption
{
    /// <summary>--output/-o; <paramref name="human"/> is the default, json is always accepted.</summary>
    public static Option<OutputFormat> Create(OutputFormat human)
    {
        var option = new Option<OutputFormat>("--output", "-o")
        {
            Description = $"Output format: {human.Name} (default) or json (data on stdout, messages on stderr).",
            DefaultValueFactory = _ => human,
            // Any other value is refused by AcceptOnlyFromAmong below, with the accepted names.
            CustomParser = result => result.Tokens is [{ Value: "json" }] ? OutputFormat.Json : human,
            HelpName = $"{human.Name}|json",
        };
        option.AcceptOnlyFromAmong(human.Name, "json");
        return option;
    }
}
