using System.Text;
using Egress.Host.Execution;

namespace Egress.Aws.Remote;

/// <summary>Turns a <see cref="CommandSpec"/> into one POSIX shell line for a remote host: words single-quoted,
/// environment through <c>env</c>, standard input as base64 piped in (no heredoc, so any bytes survive).</summary>
public static class ShellScript
{
    public static string Of(CommandSpec command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var line = new StringBuilder();
        if (command.StandardInput is { } input)
        {
            line.Append("printf '%s' ").Append(Quote(Convert.ToBase64String(Encoding.UTF8.GetBytes(input)))).Append(" | base64 -d | ");
        }

        if (command.Environment.Count > 0)
        {
            line.Append("env");
            foreach (var (key, value) in command.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                line.Append(' ').Append(Quote($"{key}={value}"));
            }

            line.Append(' ');
        }

        line.Append(Quote(command.Program));
        foreach (var argument in command.Arguments)
        {
            line.Append(' ').Append(Quote(argument));
        }

        return line.ToString();
    }

    public static string Quote(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@,+%".Contains(c, StringComparison.Ordinal))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
