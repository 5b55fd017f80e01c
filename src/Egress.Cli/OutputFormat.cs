using System.CommandLine;

namespace Egress.Cli;

internal enum OutputFormat
{
    Text,
    Yaml,
    Json,
}

internal static class OutputFormatOption
{
    /// <summary>--output/-o; <paramref name="human"/> is the default, json is always accepted.</summary>
    public static Option<OutputFormat> Create(OutputFormat human)
    {
        var option = new Option<OutputFormat>("--output", "-o")
        {
            Description = $"Output format: {human.ToString().ToLowerInvariant()} (default) or json (data on stdout, messages on stderr).",
            DefaultValueFactory = _ => human,
            HelpName = $"{human.ToString().ToLowerInvariant()}|json",
        };
        option.AcceptOnlyFromAmong(human.ToString().ToLowerInvariant(), "json");
        return option;
    }
}
