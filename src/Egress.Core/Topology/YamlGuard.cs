using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Egress.Core.Topology;

/// <summary>A streaming pass over the YAML events before the document is built: refuses nesting deeper than any
/// topology needs (the node builder recurses, so a deep document would overflow the stack), refuses explicit tags
/// (<c>!!map</c>, <c>!foo</c>: the binder reads values as text, so a tag would be silently ignored), bounds the nodes
/// that aliases add to the document (an alias bomb), and reports a key that appears twice in a mapping with its line
/// and path (the node builder would only say "duplicate key").</summary>
internal static class YamlGuard
{
    /// <summary>The deepest topology path is lab.latency[i].between[j] (five levels under the root); 20 leaves room
    /// for any mistake a person makes and is far below what the recursive node builder can take.</summary>
    public const int MaxDepth = 20;

    /// <summary>The most nodes aliases may add to a document, counted as expanded: an alias adds every node of its
    /// anchor's value, aliases inside it included. Aliases in a topology share small pieces (an egressVia list, a
    /// latency pair); every client of a topology at the list limits (4,096) sharing a three-gateway egressVia is
    /// 16,384. A region anchor with 200 subnet aliases repeated 63 times (1.4 KB of text) is about 40,000 and
    /// expands to millions of validation findings; it is refused at the alias that crosses the bound.</summary>
    public const int MaxAliasNodes = 20_000;

    public static bool Check(string text, SourceMap map, List<Diagnostic> diagnostics)
    {
        var frames = new Stack<Frame>();
        // Values as objects, not longs: a Dictionary whose value is a struct may have no ReadyToRun code (bench/startup.sh).
        var anchors = new Dictionary<string, NodeCount>(StringComparer.Ordinal);
        var aliased = 0L;
        var parser = new Parser(new StringReader(text));
        var ok = true;
        while (MoveNext(parser, map, diagnostics))
        {
            var current = parser.Current!;
            var here = frames.Count == 0 ? string.Empty : frames.Peek().ChildPath();
            if (current is NodeEvent { Tag.IsEmpty: false } tagged)
            {
                diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, map.File, Line(current), Column(current), here,
                    $"YAML tag '{Shorten(TagText(tagged, text))}' is not allowed in a topology",
                    "remove the tag: every value is read as text and checked by its key; quote a value ('...') that must stay text"));
                return false;
            }

            switch (current)
            {
                case MappingStart or SequenceStart:
                    if (frames.Count >= MaxDepth)
                    {
                        diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, map.File, Line(current), Column(current), here,
                            Inv($"nesting deeper than {MaxDepth} levels"), "a topology nests at most five levels (lab.latency[i].between); remove the extra brackets or indentation"));
                        return false;
                    }

                    frames.Push(new Frame(here, current is MappingStart, ((NodeEvent)current).Anchor));
                    break;
                case MappingEnd or SequenceEnd:
                    var closed = frames.Pop();
                    var size = closed.Size + 1;
                    if (!closed.Anchor.IsEmpty)
                    {
                        anchors[closed.Anchor.Value] = new NodeCount(size);
                    }

                    if (frames.Count > 0)
                    {
                        frames.Peek().Completed(null, size);
                    }

                    break;
                case Scalar scalar:
                    if (!scalar.Anchor.IsEmpty)
                    {
                        anchors[scalar.Anchor.Value] = new NodeCount(1);
                    }

                    if (frames.Count == 0)
                    {
                        break;
                    }

                    var frame = frames.Peek();
                    if (frame.IsMapping && frame.ExpectKey && !frame.Keys.Add(scalar.Value))
                    {
                        var keyPath = YamlBinder.Join(frame.Path, scalar.Value);
                        diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, map.File, Line(scalar), Column(scalar), keyPath,
                            $"key '{Shorten(scalar.Value)}' appears twice in this mapping", "each key may appear once; remove or merge the second one"));
                        ok = false;
                    }

                    frame.Completed(scalar.Value, 1);
                    break;
                case AnchorAlias alias:
                    // An alias whose anchor is not (yet) defined adds nothing here; the node builder reports it.
                    var expanded = anchors.TryGetValue(alias.Value.Value, out var count) ? count.Value : 0;
                    aliased += expanded;
                    if (aliased > MaxAliasNodes)
                    {
                        diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, map.File, Line(alias), Column(alias), here,
                            Inv($"the aliases expand the document past {MaxAliasNodes} nodes (alias '*{Shorten(alias.Value.Value)}' repeats {expanded} nodes); refused before expanding it"),
                            "write the repeated parts out, or alias only small pieces (a list of gateway names); a topology never needs this much repetition"));
                        return false;
                    }

                    if (frames.Count > 0)
                    {
                        frames.Peek().Completed(null, expanded);
                    }

                    break;
            }
        }

        return ok;
    }

    /// <summary>The tag as written (<c>!!map</c>, <c>!foo</c>), else as resolved.</summary>
    private static string TagText(NodeEvent node, string text)
    {
        var start = (int)node.Start.Index;
        if (start >= 0 && start < text.Length && text[start] == '!')
        {
            var end = start;
            if (start + 1 < text.Length && text[start + 1] == '<')
            {
                end = text.IndexOf('>', start);
                return end < 0 ? node.Tag.Value : text[start..(end + 1)];
            }

            while (end < text.Length && !char.IsWhiteSpace(text[end]) && text[end] is not (',' or '[' or ']' or '{' or '}'))
            {
                end++;
            }

            return text[start..end];
        }

        return node.Tag.Value;
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

    private sealed record NodeCount(long Value);

    private sealed class Frame(string path, bool isMapping, AnchorName anchor)
    {
        private string? _key;
        private int _index;

        public string Path { get; } = path;

        public bool IsMapping { get; } = isMapping;

        public bool ExpectKey { get; private set; } = true;

        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);

        public AnchorName Anchor { get; } = anchor;

        /// <summary>The nodes inside this collection so far, aliases counted as expanded.</summary>
        public long Size { get; private set; }

        public string ChildPath() => IsMapping
            ? YamlBinder.Join(Path, ExpectKey ? "?" : _key ?? "?")
            : string.Create(CultureInfo.InvariantCulture, $"{Path}[{_index}]");

        /// <summary>A child node ended: in a mapping, keys and values alternate; in a list, the index moves on.</summary>
        public void Completed(string? scalar, long size)
        {
            Size += size;
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
