using Egress.Core.IO;

namespace Egress.Cli.Commands;

/// <summary>Every file an option names goes through here: read with a size bound, written whole or not at all, and
/// any problem turned into exit 2 with the option, the path, the reason and the fix (docs/cost.md, docs/aws.md,
/// docs/verify.md give each option's bound).</summary>
internal static class FileArguments
{
    /// <summary>The text of <paramref name="path"/> (relative to the working directory), at most <paramref name="maxBytes"/>.</summary>
    public static string ReadText(CliContext context, string option, string path, int maxBytes, string fix)
    {
        try
        {
            return BoundedFile.ReadAllText(context.Resolve(path), maxBytes, path);
        }
        catch (FileAccessProblem problem)
        {
            throw Usage(option, problem, fix);
        }
    }

    /// <summary>Refuses an output path that cannot be written before any work is done (a directory, a missing parent,
    /// no permission).</summary>
    public static string CheckOutput(CliContext context, string option, string path)
    {
        var full = context.Resolve(path);
        try
        {
            OutputFile.CheckWritable(full, path);
        }
        catch (FileAccessProblem problem)
        {
            throw Usage(option, problem, "pick a file in a directory you can write to");
        }

        return full;
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> whole (a temporary file renamed over it).</summary>
    public static void WriteText(CliContext context, string option, string path, string text)
    {
        try
        {
            OutputFile.WriteAllText(context.Resolve(path), text, path);
        }
        catch (FileAccessProblem problem)
        {
            throw Usage(option, problem, "pick a file in a directory you can write to, on a disk with room");
        }
    }

    private static UsageException Usage(string option, FileAccessProblem problem, string fix) =>
        new($"{(option.Length == 0 ? string.Empty : option + " ")}{problem.Path}: {problem.Problem}. Fix: {fix}.");
}
