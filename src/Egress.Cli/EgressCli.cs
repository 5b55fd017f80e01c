using System.CommandLine;
using System.Reflection;
using System.CommandLine.Parsing;
using System.Globalization;
using Egress.Cli.Commands;
using Egress.Core;

namespace Egress.Cli;

/// <summary>The root command: builds every verb, maps parse errors to exit 2 and unexpected exceptions to a bug report.</summary>
internal static class EgressCli
{
    public static string Version =>
        typeof(EgressCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>The root command with every verb, or with only <paramref name="verb"/> when it names one: building
    /// a verb constructs its options and loads its libraries (the AWS SDK for plan), so 'egress validate' builds
    /// only validate.</summary>
    public static RootCommand Build(CliContext context, string? verb = null)
    {
        var root = new RootCommand(
            "Egress: send a client's internet traffic out of another AWS region's NAT gateway, over an overlay on VPC peering.\n" +
            "Start with 'egress init', check with 'egress validate', and see every resolved default with 'egress show'.");
        // A plain loop: LINQ over these tuples would be JIT-compiled on every start (ReadyToRun cannot hold
        // System.Linq's code for egress's tuple type), a few milliseconds of 'egress validate'.
        foreach (var (name, create) in Verbs)
        {
            if (name == verb)
            {
                root.Subcommands.Add(create(context));
                return root;
            }
        }

        foreach (var (_, create) in Verbs)
        {
            root.Subcommands.Add(create(context));
        }

        return root;
    }

    /// <summary>Every verb by name, in the order help lists them.</summary>
    internal static readonly (string Name, Func<CliContext, Command> Create)[] Verbs =
    [
        ("init", c => new InitCommand(c)),
        ("validate", c => new ValidateCommand(c)),
        ("show", c => new ShowCommand(c)),
        ("cost", c => new CostCommand(c)),
        ("render", c => new RenderCommand(c)),
        ("plan", c => new PlanCommand(c)),
        ("apply", c => new ApplyCommand(c)),
        ("destroy", c => new DestroyCommand(c)),
        ("status", c => new StatusCommand(c)),
        ("lab", c => new LabCommand(c)),
        ("verify", c => new VerifyCommand(c)),
        ("doctor", c => new DoctorCommand(c)),
    ];

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var root = Build(context, args.Length > 0 ? args[0] : null);
        StartupTrace.Mark("verbs built");
        SpeakNumbers(root);
        StartupTrace.Mark("number parsers set");

        // Bare 'egress' is a request for help, not a mistake: print it on stdout, exit 0 (README, Commands).
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        StartupTrace.Mark("parsed");
        if (parse.Errors.Count > 0)
        {
            foreach (var message in ErrorMessages(parse))
            {
                await context.Error.WriteLineAsync($"error: {message}");
            }

            await context.Error.WriteLineAsync($"Run '{CommandPath(parse)} --help' for usage.");
            return ExitCodes.BadInput;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = context.Output,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
                // Ctrl-C/SIGTERM cancel the verb's token; the verb then cleans up (a lab being built or run is removed)
                // and returns 130. The default 2 s would end the process in the middle of that clean-up on a busy machine.
                ProcessTerminationTimeout = TimeSpan.FromSeconds(60),
            }, cancellationToken);
        }
        catch (UsageException ex)
        {
            await context.Error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException)
        {
            await context.Error.WriteLineAsync("cancelled");
            return ExitCodes.Cancelled;
        }
#pragma warning disable CA1031 // The last line of defence: any other exception is a bug and says so.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await context.Error.WriteLineAsync($"egress {Version} hit a bug: {ex.GetType().Name}: {ex.Message}");
            await context.Error.WriteLineAsync("This is a bug in egress, not in your input. Please report it with the command you ran and this trace:");
            await context.Error.WriteLineAsync(ex.ToString());
            return ExitCodes.Bug;
        }
    }

    /// <summary>The parse errors in the user's words: an unknown verb or option names the nearest one; "required
    /// command" is left out when an unknown word already explains it.</summary>
    private static IEnumerable<string> ErrorMessages(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var unmatched = parse.UnmatchedTokens;
        foreach (var token in unmatched)
        {
            var isOption = token.StartsWith('-');
            var known = isOption
                ? OptionsOf(parse.CommandResult).SelectMany(o => o.Aliases.Prepend(o.Name))
                : command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);
            var what = isOption ? "option" : command.Subcommands.Count > 0 ? "command" : "argument";
            var nearest = Nearest.Of(token, known);
            yield return $"unknown {what} '{token}'" + (nearest is null ? string.Empty : $"; did you mean '{nearest}'?");
        }

        foreach (var error in parse.Errors)
        {
            var aboutUnmatched = unmatched.Any(t => error.Message.Contains($"'{t}'", StringComparison.Ordinal));
            var requiredCommand = error.SymbolResult is CommandResult { Command.Subcommands.Count: > 0 } && unmatched.Count > 0;
            if (!aboutUnmatched && !requiredCommand)
            {
                yield return error.Message;
            }
        }
    }

    private static IEnumerable<Option> OptionsOf(CommandResult? result)
    {
        for (var depth = 0; result is not null; result = result.Parent as CommandResult, depth++)
        {
            foreach (var option in result.Command.Options.Where(o => depth == 0 || o.Recursive))
            {
                yield return option;
            }
        }
    }

    /// <summary>Every numeric option says what it wanted in plain words ("--gb-out: 'abc' is not a number"),
    /// not "expected type 'System.Decimal'".</summary>
    private static void SpeakNumbers(Command command)
    {
        foreach (var option in command.Options)
        {
            switch (option)
            {
                case Option<decimal> d when d.CustomParser is null:
                    d.CustomParser = r => Number(r, d, (string t, out decimal v) => decimal.TryParse(t, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out v), "a number", "1.5");
                    break;
                case Option<double> d when d.CustomParser is null:
                    d.CustomParser = r => Number(r, d, (string t, out double v) => double.TryParse(t, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out v), "a number", "2.5");
                    break;
                case Option<int> i when i.CustomParser is null:
                    i.CustomParser = r => Number(r, i, (string t, out int v) => int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v), "a whole number", "5");
                    break;
                case Option<int?> i when i.CustomParser is null:
                    i.CustomParser = r => Number(r, i, (string t, out int? v) =>
                    {
                        var ok = int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n);
                        v = ok ? n : null;
                        return ok;
                    }, "a whole number", "5");
                    break;
            }
        }

        foreach (var sub in command.Subcommands)
        {
            SpeakNumbers(sub);
        }
    }

    private delegate bool TryParse<T>(string text, out T value);

    private static T? Number<T>(ArgumentResult result, Option option, TryParse<T> parse, string what, string example)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (parse(text, out var value))
        {
            return value;
        }

        result.AddError($"{option.Name}: '{text}' is not {what}; write it like {option.Name} {example}.");
        return default;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "egress" : result.Command.Name);
        }

        return string.Join(' ', names);
    }
}
