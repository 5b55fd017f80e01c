namespace Egress.Processes;

/// <summary>The one POSIX shell quoting of the code base: the host script's data block, command lines shown in logs
/// and errors, and commands sent to a remote shell all quote words with it.</summary>
public static class ShellWord
{
    private const string Plain = "-_./:=@,+%";

    /// <summary>The word as one shell word: unchanged when it consists only of letters, digits and <c>-_./:=@,+%</c>
    /// (nothing the shell would expand or split), else in single quotes with each <c>'</c> written as <c>'\''</c>.
    /// The empty word is <c>''</c>.</summary>
    public static string Quote(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || Plain.Contains(c, StringComparison.Ordinal))
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }
}
