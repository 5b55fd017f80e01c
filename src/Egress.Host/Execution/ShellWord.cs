namespace Egress.Host.Execution;

/// <summary>POSIX shell quoting, in one place: a word of safe characters stays as it is, anything else is single-quoted
/// (a single quote inside becomes '\''). Used for log lines, remote command lines and the host script's data.</summary>
public static class ShellWord
{
    public static string Quote(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@,+%".Contains(c, StringComparison.Ordinal))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
