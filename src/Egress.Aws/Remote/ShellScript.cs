using System.Text;
using Egress.Processes;

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
            line.Append("printf '%s' ").Append(ShellWord.Quote(Convert.ToBase64String(Encoding.UTF8.GetBytes(input)))).Append(" | base64 -d | ");
        }

        if (command.Environment.Count > 0)
        {
            line.Append("env");
            foreach (var (key, value) in command.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                line.Append(' ').Append(ShellWord.Quote($"{key}={value}"));
            }

            line.Append(' ');
        }

        line.Append(ShellWord.Quote(command.Program));
        foreach (var argument in command.Arguments)
        {
            line.Append(' ').Append(ShellWord.Quote(argument));
        }

        return line.ToString();
    }
}
