using Egress.Aws.Model;
using Egress.Aws.Ports;
using Egress.Aws.Sdk;
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
        // Made on first use: creating a Spectre console probes the terminal, and validate or show never need one.
        _human = new Lazy<IAnsiConsole>(() => Sized(AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(error),
            Ansi = colors ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = colors ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = colors ? InteractionSupport.Detect : InteractionSupport.No,
        })));
        _data = new Lazy<IAnsiConsole>(() => Sized(AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = colors ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = colors ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        })));
    }

    /// <summary>Columns that tables and text fit in (<see cref="CliTable"/>); see <see cref="WidthFrom"/>.</summary>
    public int Width { get; init; } = DefaultWidth;

    public const int DefaultWidth = 80;

    /// <summary>COLUMNS when it holds a sane number (so a pipe or a log gets the width asked for), else the terminal's
    /// width, else 80.</summary>
    public static int WidthFrom(string? columns, Func<int?> terminalWidth) =>
        int.TryParse(columns, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 20 and <= 1000
            ? n
            : terminalWidth() is { } terminal and >= 20 ? terminal : DefaultWidth;

    private IAnsiConsole Sized(IAnsiConsole console)
    {
        console.Profile.Width = Width;
        return console;
    }

    private readonly Lazy<IAnsiConsole> _human;
    private readonly Lazy<IAnsiConsole> _data;

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    public string WorkingDirectory { get; }

    /// <summary>Human-facing console (stderr): tables, progress, diagnostics.</summary>
    public IAnsiConsole Human => _human.Value;

    /// <summary>Console on stdout, for human reports when the command's data is the report itself.</summary>
    public IAnsiConsole Data => _data.Value;

    /// <summary>Makes the AWS ports for the provisioning verbs; tests put the in-memory fake here.</summary>
    public Func<AwsConnection, IAwsPorts> AwsPorts { get; set; } = connection => new SdkAwsPorts(connection);

    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Each host's cloud-init user data for plan and apply.</summary>
    public UserDataProvider UserData { get; set; } = HostUserData.Render;

    /// <summary>Where a confirmation is read from; null when there is no terminal to ask on (stdin redirected or closed).</summary>
    public TextReader? Input { get; set; }

    public string Resolve(string path) => Path.GetFullPath(path, WorkingDirectory);

    public static CliContext FromProcess() =>
        new(Console.Out, Console.Error, Environment.CurrentDirectory,
            colors: !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null)
        {
            Input = Console.IsInputRedirected ? null : Console.In,
            Width = WidthFrom(Environment.GetEnvironmentVariable("COLUMNS"), TerminalWidth),
        };

    private static int? TerminalWidth()
    {
        if (Console.IsOutputRedirected && Console.IsErrorRedirected)
        {
            return null;
        }

        try
        {
            return Console.WindowWidth;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
