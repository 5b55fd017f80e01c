using System.CommandLine;
using System.Globalization;
using Egress.Verify;

namespace Egress.Cli;

/// <summary>The options every verify verb shares (<c>egress lab verify</c>, <c>egress lab run</c>, later
/// <c>egress verify</c>): --rounds, --cold, --keepalive, --timeout, --html and --output; and the one call that runs the
/// suite against an environment and returns the exit code (0 pass, 1 fail, 2 bad input).</summary>
internal sealed class VerifyCliOptions
{
    public Option<int?> Rounds { get; } = new("--rounds")
    {
        Description = "Rounds of the whole suite; every round must pass (default: verify.criteria.rounds of the topology, 5).",
        HelpName = "R",
    };

    public Option<int> Cold { get; } = new("--cold")
    {
        Description = "Cold requests (a new connection each) per target and round.",
        DefaultValueFactory = _ => new VerifyOptions().ColdSamples,
        HelpName = "N",
    };

    public Option<int> KeepAlive { get; } = new("--keepalive")
    {
        Description = "Requests per keep-alive run (one connection; the first opens it) per target and round.",
        DefaultValueFactory = _ => new VerifyOptions().KeepAliveRequests,
        HelpName = "N",
    };

    public Option<double> Timeout { get; } = new("--timeout")
    {
        Description = "Seconds one HTTP request may take.",
        DefaultValueFactory = _ => new VerifyOptions().RequestTimeout.TotalSeconds,
        HelpName = "S",
    };

    public Option<string?> Html { get; } = new("--html")
    {
        Description = "Also write a self-contained HTML report with latency CDFs per phase to FILE (written whole: a temporary file beside it, renamed).",
        HelpName = "FILE",
    };

    /// <summary>--output: this class's own, or the one the verb already has (<paramref name="sharedOutput"/>).</summary>
    public VerifyCliOptions(Option<OutputFormat>? sharedOutput = null)
    {
        _ownsOutput = sharedOutput is null;
        Output = sharedOutput ?? OutputFormatOption.Create(OutputFormat.Text);
    }

    private readonly bool _ownsOutput;

    public Option<OutputFormat> Output { get; }

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Rounds);
        command.Options.Add(Cold);
        command.Options.Add(KeepAlive);
        command.Options.Add(Timeout);
        command.Options.Add(Html);
        if (_ownsOutput)
        {
            command.Options.Add(Output);
        }
    }

    /// <summary>The suite's options from the command line; throws <see cref="UsageException"/> naming a bad value.</summary>
    public VerifyOptions OptionsFrom(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var seconds = parse.GetValue(Timeout);
        if (seconds <= 0 || double.IsNaN(seconds) || seconds > 600)
        {
            throw new UsageException($"--timeout {seconds.ToString(CultureInfo.InvariantCulture)}: give the seconds one request may take, more than 0 and at most 600.");
        }

        var options = new VerifyOptions
        {
            Rounds = parse.GetValue(Rounds),
            ColdSamples = parse.GetValue(Cold),
            KeepAliveRequests = parse.GetValue(KeepAlive),
            RequestTimeout = TimeSpan.FromSeconds(seconds),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"{ex.Message} (--rounds, --cold, --keepalive)");
        }

        return options;
    }

    public VerifyOutput OutputFrom(CliContext context, ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(parse);
        // Checked before the suite runs (a directory, a missing parent, no permission): minutes of rounds are not
        // thrown away on a path that cannot be written. A full disk shows only at the write: VerifyRun reports it, exit 2.
        var html = parse.GetValue(Html) is { } path ? Commands.FileArguments.CheckOutput(context, "--html", path) : null;

        return new VerifyOutput(
            context.Human,
            context.Data,
            context.Output,
            parse.GetValue(Output) == OutputFormat.Json ? VerifyOutputFormat.Json : VerifyOutputFormat.Text,
            html);
    }

    /// <summary>Runs the suite against <paramref name="environment"/> and writes the report; returns the exit code.
    /// Bad options throw <see cref="UsageException"/> (exit 2) before anything runs.</summary>
    public Task<int> RunAsync(CliContext context, ParseResult parse, VerifyEnvironment environment, CancellationToken cancellationToken) =>
        VerifyRun.RunAsync(environment, OptionsFrom(parse), OutputFrom(context, parse), cancellationToken);
}
