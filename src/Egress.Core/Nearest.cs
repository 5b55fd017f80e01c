namespace Egress.Core;

/// <summary>"Did you mean": the known word nearest to a typo (topology keys, region codes, CLI verbs and options).</summary>
public static class Nearest
{
    /// <summary>The known word nearest to <paramref name="word"/>: the same ignoring case, or at most
    /// max(2, length/4) edits away; null when nothing is that close.</summary>
    public static string? Of(string word, IEnumerable<string> known)
    {
        ArgumentNullException.ThrowIfNull(word);
        return known.Select(k => (Key: k, Distance: string.Equals(k, word, StringComparison.OrdinalIgnoreCase) ? 0 : Levenshtein(k.ToUpperInvariant(), word.ToUpperInvariant())))
            .Where(c => c.Distance <= Math.Max(2, word.Length / 4))
            .OrderBy(c => c.Distance)
            .Select(c => c.Key)
            .FirstOrDefault();
    }

    private static int Levenshtein(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
