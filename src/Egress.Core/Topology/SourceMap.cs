namespace Egress.Core.Topology;

/// <summary>Where each path of a topology document starts in its file, so semantic errors found on the model
/// can point at a line and column.</summary>
public sealed class SourceMap
{
    // Positions as objects, not (int, int) tuples: a Dictionary whose value is a struct has no ReadyToRun code and is
    // JIT-compiled when 'egress validate' starts (bench/startup.sh).
    private readonly Dictionary<string, Position> _positions = new(StringComparer.Ordinal);

    public SourceMap(string file) => File = file;

    public string File { get; }

    /// <summary>Paths that failed to bind; semantic checks that involve them are not reported twice.</summary>
    internal HashSet<string> Poisoned { get; } = new(StringComparer.Ordinal);

    internal void Record(string path, int line, int column) => _positions.TryAdd(path, new Position(line, column));

    /// <summary>The position of <paramref name="path"/> or of its nearest recorded ancestor; (0, 0) when unknown.</summary>
    public (int Line, int Column) Find(string path)
    {
        var current = path;
        while (true)
        {
            if (_positions.TryGetValue(current, out var position))
            {
                return (position.Line, position.Column);
            }

            if (current.Length == 0)
            {
                return (0, 0);
            }

            current = Parent(current);
        }
    }

    internal bool IsPoisoned(string path)
    {
        foreach (var poisoned in Poisoned)
        {
            if (path == poisoned || path.StartsWith(poisoned + ".", StringComparison.Ordinal) ||
                path.StartsWith(poisoned + "[", StringComparison.Ordinal) || poisoned.StartsWith(path + ".", StringComparison.Ordinal) ||
                poisoned.StartsWith(path + "[", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    internal static string Parent(string path)
    {
        var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut <= 0 ? string.Empty : path[..cut];
    }

    private sealed record Position(int Line, int Column);

    /// <summary>A map that knows no positions, for models built in code.</summary>
    public static SourceMap None(string file = "(model)") => new(file);
}
