using System.CommandLine;
using Egress.Core;
using Egress.Core.Topology;

namespace Egress.Cli;

/// <summary>The shared -f/--file option and the one place that reads a topology file from disk.</summary>
internal static class TopologyFile
{
    public static Option<string> Option() => new("--file", "-f")
    {
        Description = $"The topology file (default: ./{TopologyLoader.DefaultFileName}).",
        DefaultValueFactory = _ => TopologyLoader.DefaultFileName,
        HelpName = "FILE",
    };

    /// <summary>Reads and validates the file. Prints every diagnostic (warnings too) to stderr; throws
    /// <see cref="UsageException"/> (exit 2) when the file is missing, unreadable or invalid.</summary>
    public static TopologyModel Load(CliContext context, string path)
    {
        var result = Read(context, path);
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
        string text;
        try
        {
            text = File.ReadAllText(full);
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

        return TopologyLoader.Load(text, path);
    }

    public static void Print(CliContext context, IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            context.Error.WriteLine(diagnostic.ToString());
        }
    }
}
