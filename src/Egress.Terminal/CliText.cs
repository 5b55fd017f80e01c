using System.Text;

namespace Egress.Terminal;

/// <summary>Lines of free text (a plan, a report line) fitted to the console's width the way <see cref="CliTable"/> fits
/// tables: a long line breaks between words, its continuation indented under it, and a word (an id, address, CIDR) is
/// never split; a word longer than the width stands whole on a line of its own.</summary>
public static class CliText
{
    /// <summary>How much deeper than its line a continuation starts.</summary>
    public const int Hanging = 4;

    /// <summary>Every line of <paramref name="text"/> fitted to <paramref name="width"/>; line ends are kept.</summary>
    public static string Wrap(string text, int width)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        var result = new StringBuilder(text.Length + 16);
        for (var i = 0; i < lines.Length; i++)
        {
            if (i > 0)
            {
                result.Append('\n');
            }

            result.AppendJoin('\n', WrapLine(lines[i], width));
        }

        return result.ToString();
    }

    /// <summary>One line fitted to <paramref name="width"/>: the gaps between words are kept as they were, except at a
    /// break, where the gap goes and the next line starts at <paramref name="continuation"/> columns (default: the
    /// line's indent plus <see cref="Hanging"/>).</summary>
    public static IEnumerable<string> WrapLine(string line, int width, int? continuation = null)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.Length <= width)
        {
            yield return line;
            yield break;
        }

        var lead = line.Length - line.TrimStart(' ').Length;
        var indent = new string(' ', continuation ?? (lead + Hanging <= width / 2 ? lead + Hanging : lead));
        var current = new StringBuilder(line[..lead]);
        var contentStart = lead;
        var at = lead;
        while (at < line.Length)
        {
            var gapEnd = at;
            while (gapEnd < line.Length && line[gapEnd] == ' ')
            {
                gapEnd++;
            }

            var wordEnd = gapEnd;
            while (wordEnd < line.Length && line[wordEnd] != ' ')
            {
                wordEnd++;
            }

            if (current.Length > contentStart && current.Length + (wordEnd - at) > width)
            {
                yield return current.ToString();
                current.Clear().Append(indent);
                contentStart = indent.Length;
            }
            else
            {
                current.Append(line, at, gapEnd - at);
            }

            current.Append(line, gapEnd, wordEnd - gapEnd);
            at = wordEnd;
        }

        yield return current.ToString();
    }

    /// <summary>Writes <paramref name="line"/> fitted to <paramref name="width"/>.</summary>
    public static void WriteLine(TextWriter writer, string line, int width)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var part in WrapLine(line, width))
        {
            writer.WriteLine(part);
        }
    }
}
