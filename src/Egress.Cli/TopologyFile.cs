using System.CommandLine;
using System.Text;
using Egress.Core;
using Egress.Core.Topology;

namespace Egress.Cli;

/// <summary>The shared -f/--file option and the one place that reads a topology file from disk.</summary>
internal static class TopologyFile
{
    /// <summary>What a topology loaded from the embedded seed is called in messages.</summary>
    public const string EmbeddedSeedName = "(embedded seed)";

    public static Option<string> Option() => new("--file", "-f")
    {
        Description = $"The topology file (default: ./{TopologyLoader.DefaultFileName}).",
        DefaultValueFactory = _ => TopologyLoader.DefaultFileName,
        HelpName = "FILE",
    };

    /// <summary>Reads and validates the file. Prints every diagnostic (warnings too) to stderr; throws
    /// <see cref="UsageException"/> (exit 2) when the file is missing, unreadable or invalid.</summary>
    public static TopologyModel Load(CliContext context, string path) => Require(context, Read(context, path), path);

    public static TopologyModel Require(CliContext context, TopologyLoadResult result, string path)
    {
        Print(context, result.Diagnostics);
        if (!result.Succeeded)
        {
            var count = result.Errors.Count();
            throw new UsageException($"{path}: {count} error{(count == 1 ? string.Empty : "s")}; nothing was changed.");
        }

        return result.Topology!;
    }

    public static TopologyLoadResult Read(CliContext context, string path)
    {
        var full = context.Resolve(path);
        string? text;
        try
        {
            text = ReadBounded(full);
        }
        catch (FileNotFoundException) when (path == "-")
        {
            throw new UsageException("-: no such file; egress does not read a topology from standard input. Save it to a file and pass -f FILE.");
        }
        catch (FileNotFoundException)
        {
            throw new UsageException($"{path}: no such file. Run 'egress init' to write the seed topology there, or pass -f FILE.");
        }
        catch (DirectoryNotFoundException)
        {
            throw new UsageException($"{path}: the directory does not exist. Pass -f with an existing file.");
        }
        catch (UnauthorizedAccessException)
        {
            throw new UsageException($"{path}: cannot be read (permission denied, or it is a directory). Check its permissions.");
        }
        catch (IOException ex)
        {
            throw new UsageException($"{path}: cannot be read: {ex.Message}");
        }

        return text is null
            ? new TopologyLoadResult(null, [TopologyLoader.TooLarge(path)], new SourceMap(path))
            : TopologyLoader.Load(text, path);
    }

    /// <summary>The file's text, or null when it holds more than <see cref="TopologyLoader.MaxSize"/> characters:
    /// reading stops there, so /dev/zero or a huge log is refused at once instead of filling memory.</summary>
    private static string? ReadBounded(string path)
    {
        // Always the bounded loop, even for a regular file of known size: a file that grows while it is read (a log
        // being written) would otherwise be read to its end.
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var text = new StringBuilder();
        var buffer = new char[64 * 1024];
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            text.Append(buffer, 0, read);
            if (text.Length > TopologyLoader.MaxSize)
            {
                return null;
            }
        }

        return text.ToString();
    }

    /// <summary>The most diagnostics printed, so a broken file cannot flood the terminal; the rest are counted in one
    /// line ('validate -o json' lists them all).</summary>
    public const int MaxPrinted = 50;

    public static void Print(CliContext context, IEnumerable<Diagnostic> diagnostics)
    {
        var printed = 0;
        var more = 0;
        foreach (var diagnostic in diagnostics)
        {
            if (printed < MaxPrinted)
            {
                context.Error.WriteLine(diagnostic.ToString());
                printed++;
            }
            else
            {
                more++;
            }
        }

        if (more > 0)
        {
            context.Error.WriteLine($"... and {more} more not shown (only the first {MaxPrinted} are printed; fix those and run again, or list every one with 'egress validate FILE -o json')");
        }
    }
}

/// <summary>How the read-only verbs (validate, show, cost, render) find their topology: a positional FILE or -f FILE,
/// else ./egress.yaml, else the embedded seed (said on stderr), so they work in an empty directory as 'lab run' does.</summary>
internal sealed class TopologySource
{
    private TopologySource(Command command)
    {
        File = new Option<string?>("--file", "-f")
        {
            Description = $"The topology file (default: ./{TopologyLoader.DefaultFileName}, else the embedded seed topology).",
            HelpName = "FILE",
        };
        Positional = new Argument<string?>("FILE")
        {
            Description = "The topology file, the same as -f FILE.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        // An unknown option in the FILE position ('--fiel x') would otherwise be taken for the file name.
        Positional.Validators.Add(result =>
        {
            if (result.Tokens is [{ Value: ['-', _, ..] token }])
            {
                var nearest = Nearest.Of(token, command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)));
                result.AddError($"unknown option '{token}'" + (nearest is null ? string.Empty : $"; did you mean '{nearest}'?"));
            }
        });
        command.Options.Add(File);
        command.Arguments.Add(Positional);
    }

    public Option<string?> File { get; }

    public Argument<string?> Positional { get; }

    public static TopologySource AddTo(Command command) => new(command);

    /// <summary>The file the user named (positional or -f), or null when they named none.</summary>
    public string? Named(ParseResult parse)
    {
        var option = parse.GetValue(File);
        var positional = parse.GetValue(Positional);
        if (option is not null && positional is not null && option != positional)
        {
            throw new UsageException($"two topology files given ('{positional}' and -f '{option}'); pass one.");
        }

        return option ?? positional;
    }

    /// <summary>Reads the topology; <c>Name</c> is how messages call it (the path, or "(embedded seed)").</summary>
    public (TopologyLoadResult Result, string Name) Read(CliContext context, ParseResult parse) => ReadOrDefault(context, Named(parse));

    /// <summary>The named file, else ./egress.yaml, else the embedded seed (said on stderr): one fallback for every verb.</summary>
    public static (TopologyLoadResult Result, string Name) ReadOrDefault(CliContext context, string? named)
    {
        if (named is { } path)
        {
            return (TopologyFile.Read(context, path), path);
        }

        if (System.IO.File.Exists(context.Resolve(TopologyLoader.DefaultFileName)))
        {
            return (TopologyFile.Read(context, TopologyLoader.DefaultFileName), TopologyLoader.DefaultFileName);
        }

        context.Error.WriteLine($"No FILE and no ./{TopologyLoader.DefaultFileName}: using the embedded seed topology (Singapore client via Tokyo gateway; 'egress init' writes it out).");
        return (TopologyLoader.Load(Examples.Text(Examples.Seed), TopologyFile.EmbeddedSeedName), TopologyFile.EmbeddedSeedName);
    }

    /// <summary>Reads and requires a valid topology (diagnostics on stderr, exit 2 when invalid).</summary>
    public (TopologyModel Topology, string Name) Load(CliContext context, ParseResult parse)
    {
        var (result, name) = Read(context, parse);
        return (TopologyFile.Require(context, result, name), name);
    }
}
