using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Egress.Core.Topology;

/// <summary>A streaming pass over the YAML events before the document is built: refuses nesting deeper than any
/// topology needs (the node builder recurses, so a deep document would overflow the stack) and reports a key that
/// appears twice in a mapping with its line and path (the node builder would only say "duplicate key").</summary>
internal static class YamlGuard
{
    /// <summary>The deepest topology path is lab.latency[i].between[j] (five levels under the root); 20 leaves room
    /// for any mistake a person makes and is far below what the recursive node builder can take.</summary>
    public const int MaxDepth = 20;

    public static bool Check(string text, SourceMap map, List<Diagnostic> diagnostics)
    {
        var frames = new Stack<Frame>();
        var parser = new Parser(new StringReader(text));
        var ok = true;
        while (MoveNext(parser, map, diagnostics))
        {
            switch (parser.Current)
            {
                case MappingStart or SequenceStart:
                    var path = frames.Count == 0 ? string.Empty : frames.Peek().ChildPath();
                    if (frames.Count >= MaxDepth)
                    {
                        diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, map.File, Line(parser.Current), Column(parser.Current), path,
                            Inv($"nesting deeper than {MaxDepth} levels"), "a topology nests at most five levels (lab.latency[i].between); remove the extra brackets or indentation"));
                        return false;
                    }

                    frames.Push(new Frame(path, parser.Current is MappingStart));
                    break;
                case MappingEnd or SequenceEnd:
                    frames.Pop();
                    if (frames.Count > 0)
                    {
                        frames.Peek().Completed(null);
                    }

                    break;
                case Scalar scalar when frames.Count > 0:
                    var frame = frames.Peek();
                    if (frame.IsMapping && frame.ExpectKey && !frame.Keys.Add(scalar.Value))
                    {
                        var keyPath = YamlBinder.Join(frame.Path, scalar.Value);
                        diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, map.File, Line(scalar), Column(scalar), keyPath,
                            $"key '{Shorten(scalar.Value)}' appears twice in this mapping", "each key may appear once; remove or merge the second one"));
                        ok = false;
                    }

                    frame.Completed(scalar.Value);
                    break;
                case AnchorAlias when frames.Count > 0:
                    frames.Peek().Completed(null);
                    break;
            }
        }

        return ok;
    }

    /// <summary>The next event. YamlDotNet's scanner throws InvalidOperationException (not YamlException) on some
    /// unclosed flow collections; that is reported as a syntax error after the last event that parsed.</summary>
    private static bool MoveNext(Parser parser, SourceMap map, List<Diagnostic> diagnostics)
    {
        var last = parser.Current?.End ?? Mark.Empty;
        try
        {
            return parser.MoveNext();
        }
        catch (InvalidOperationException)
        {
            throw new YamlException(last, last, "an unclosed '[' or '{', or a quote that does not end",
                new InvalidOperationException("an unclosed '[' or '{', or a quote that does not end"));
        }
    }

    /// <summary>A value quoted in a message: long values are cut so one bad line cannot flood the output.</summary>
    public static string Shorten(string? value, int max = 80) =>
        value is null ? string.Empty : value.Length <= max ? value : string.Concat(value.AsSpan(0, max), "…");

    private static int Line(ParsingEvent e) => (int)e.Start.Line;

    private static int Column(ParsingEvent e) => (int)e.Start.Column;

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class Frame(string path, bool isMapping)
    {
        private string? _key;
        private int _index;

        public string Path { get; } = path;

        public bool IsMapping { get; } = isMapping;

        public bool ExpectKey { get; private set; } = true;

        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);

        public string ChildPath() => IsMapping
            ? YamlBinder.Join(Path, ExpectKey ? "?" : _key ?? "?")
            : string.Create(CultureInfo.InvariantCulture, $"{Path}[{_index}]");

        /// <summary>A child node ended: in a mapping, keys and values alternate; in a list, the index moves on.</summary>
        public void Completed(string? scalar)
        {
            if (!IsMapping)
            {
                _index++;
                return;
            }

            if (ExpectKey)
            {
                _key = scalar;
            }

            ExpectKey = !ExpectKey;
        }
    }
}
