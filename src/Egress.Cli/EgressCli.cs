using System.CommandLine;
using System.Reflection;
using Egress.Cli.Commands;

namespace Egress.Cli;

/// <summary>The root command: builds every verb, maps parse errors to exit 2 and unexpected exceptions to a bug report.</summary>
internal static class EgressCli
{
    public static string Version =>
        typeof(EgressCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static RootCommand Build(CliContext context)
    {
        var root = new RootCommand(
            "Egress: send a client's internet traffic out of another AWS region's NAT gateway, over an overlay on VPC peering.\n" +
            "Start with 'egress init', check with 'egress validate', and see every resolved default with 'egress show'.");
        foreach (var command in Commands(context))
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    private static IEnumerable<Command> Commands(CliContext context) =>
    [
        new InitCommand(context),
        new ValidateCommand(context),
        new ShowCommand(context),
        new CostCommand(context),
        new RenderCommand(context),
        new PlanCommand(context),
        new ApplyCommand(context),
        new DestroyCommand(context),
        new StatusCommand(context),
        new LabCommand(context),
        new VerifyCommand(context),
    ];

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var root = Build(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await context.Error.WriteLineAsync($"error: {error.Message}");
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

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "egress" : result.Command.Name);
        }

        return string.Join(' ', names);
    }
}
