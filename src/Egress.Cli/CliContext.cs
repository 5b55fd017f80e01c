using Spectre.Console;

namespace Egress.Cli;

/// <summary>Where a command reads and writes: stdout carries data (YAML, JSON), stderr carries human text.
/// Tests pass string writers and a temporary directory.</summary>
internal sealed class CliContext
{
    public CliContext(TextWriter output, TextWriter error, string workingDirectory, bool colors)
    {
        Output = output;
        Error = error;
        WorkingDirectory = workingDirectory;
        Human = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(error),
            Ansi = colors ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = colors ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = colors ? InteractionSupport.Detect : InteractionSupport.No,
        });
        Data = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = colors ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = colors ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
    }

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    public string WorkingDirectory { get; }

    /// <summary>Human-facing console (stderr): tables, progress, diagnostics.</summary>
    public IAnsiConsole Human { get; }

    /// <summary>Console on stdout, for human reports when the command's data is the report itself.</summary>
    public IAnsiConsole Data { get; }

    public string Resolve(string path) => Path.GetFullPath(path, WorkingDirectory);

    public static CliContext FromProcess() =>
        new(Console.Out, Console.Error, Environment.CurrentDirectory,
            colors: !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null);
}
