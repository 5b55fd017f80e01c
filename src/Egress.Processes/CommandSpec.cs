namespace Egress.Processes;

/// <summary>An external command as data: program, arguments, optional standard input and environment.
/// Renderers and planners return these; one <see cref="ICommandRunner"/> executes them.</summary>
public sealed record CommandSpec(string Program, IReadOnlyList<string> Arguments)
{
    public string? StandardInput { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    public static CommandSpec Of(string program, params string[] arguments) => new(program, arguments);

    /// <summary>A shell-like rendering for logs and error messages (not for execution).</summary>
    public override string ToString() =>
        string.Join(' ', new[] { Program }.Concat(Arguments).Select(ShellWord.Quote));
}

/// <summary>What a command did: exit code, both streams, how long it took (Pulumi Automation's CommandResult).</summary>
public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Throws <see cref="CommandFailedException"/> unless the command exited 0.</summary>
    public CommandResult EnsureSuccess(CommandSpec spec) => Succeeded ? this : throw new CommandFailedException(spec, this);
}

public sealed class CommandFailedException(CommandSpec spec, CommandResult result)
    : Exception($"'{spec}' exited {result.ExitCode}: {FirstLines(result.StandardError.Length > 0 ? result.StandardError : result.StandardOutput)}")
{
    public CommandSpec Spec { get; } = spec;

    public CommandResult Result { get; } = result;

    private static string FirstLines(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no output)" : string.Join(" | ", lines.Take(5));
    }
}

/// <summary>Runs commands somewhere: this machine, a lab namespace, an EC2 host over SSH or SSM.</summary>
public interface ICommandRunner
{
    Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default);
}
