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
    private readonly HashSet<string> _poisoned = new(StringComparer.Ordinal);

    /// <summary>Every proper ancestor of a poisoned path, so <see cref="IsPoisoned"/> costs the path's depth, not the
    /// number of poisoned paths (a file of 12,800 bad subnets checked pairwise would otherwise take minutes).</summary>
    private readonly HashSet<string> _poisonedAncestors = new(StringComparer.Ordinal);

    internal void Poison(string path)
    {
        if (!_poisoned.Add(path))
        {
            return;
        }

        for (var current = Parent(path); current.Length > 0 && _poisonedAncestors.Add(current); current = Parent(current))
        {
        }
    }

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

    /// <summary>Whether <paramref name="path"/>, one of its ancestors or one of its descendants failed to bind.</summary>
    internal bool IsPoisoned(string path)
    {
        if (_poisonedAncestors.Contains(path))
        {
            return true;
        }

        for (var current = path; current.Length > 0; current = Parent(current))
        {
            if (_poisoned.Contains(current))
            {
                return true;
            }
        }

        return path.Length == 0 && _poisoned.Contains(path);
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
