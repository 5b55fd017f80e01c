using System.Globalization;
using Egress.Core.Net;
using YamlDotNet.RepresentationModel;

namespace Egress.Core.Topology;

/// <summary>Reads YAML nodes into typed values, recording every problem with its path and position and
/// continuing, so one pass reports every mistake in the file.</summary>
internal sealed class YamlBinder(SourceMap map, List<Diagnostic> diagnostics)
{
    public SourceMap Map { get; } = map;

    public void Error(string path, YamlNode? node, string message, string? hint = null)
    {
        var (line, column) = node is null ? Map.Find(path) : Position(node);
        diagnostics.Add(new Diagnostic(DiagnosticSeverity.Error, Map.File, line, column, path, message, hint));
        Map.Poison(path);
    }

    public static (int Line, int Column) Position(YamlNode node) => ((int)node.Start.Line, (int)node.Start.Column);

    public MappingReader? Mapping(YamlNode? node, string path, params string[] knownKeys)
    {
        if (node is null || IsNull(node))
        {
            return null;
        }

        Record(path, node);
        if (node is not YamlMappingNode mapping)
        {
            Error(path, node, $"expected a mapping (key: value lines), found {Describe(node)}",
                $"write the keys of '{Leaf(path)}' indented below it: {string.Join(", ", knownKeys)}");
            return null;
        }

        var reader = new MappingReader(this, mapping, path);
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = keyNode is YamlScalarNode scalar ? scalar.Value ?? string.Empty : string.Empty;
            var childPath = Join(path, key);
            Record(childPath, valueNode);
            if (!knownKeys.Contains(key, StringComparer.Ordinal))
            {
                var suggestion = Suggest(key, knownKeys);
                Error(childPath, keyNode, $"unknown key '{key}'" + (suggestion is null ? string.Empty : $"; did you mean '{suggestion}'?"),
                    suggestion is null
                        ? $"the keys allowed here are: {string.Join(", ", knownKeys)}"
                        : $"rename '{key}' to '{suggestion}'");
            }
        }

        return reader;
    }

    public IReadOnlyList<SequenceItem> Sequence(YamlNode? node, string path, string what, int max)
    {
        if (node is null || IsNull(node))
        {
            return [];
        }

        Record(path, node);
        if (node is not YamlSequenceNode sequence)
        {
            Error(path, node, $"expected a list of {what}, found {Describe(node)}", $"write each of the {what} on its own line starting with '- '");
            return [];
        }

        if (sequence.Children.Count > max)
        {
            Error(path, node, string.Create(CultureInfo.InvariantCulture, $"{sequence.Children.Count} {what}; at most {max} are allowed here"),
                $"split the topology, or remove entries ({TopologyLimits.Why(path)})");
            return [];
        }

        var items = new List<SequenceItem>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var itemPath = string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]");
            Record(itemPath, sequence.Children[i]);
            items.Add(new SequenceItem(sequence.Children[i], itemPath));
        }

        return items;
    }

    public string? Scalar(YamlNode node, string path)
    {
        Record(path, node);
        if (node is YamlScalarNode scalar)
        {
            if (!IsNull(scalar) && scalar.Value is { } value && !IsWellFormed(value))
            {
                // Text handed in as a string (not decoded from a UTF-8 file) can hold a lone surrogate: no file, script or AWS tag
                // can carry it, and writing the topology back threw (found by CsCheck, seed 5NpHOG50fE72).
                Error(path, node, "the value contains an unpaired UTF-16 surrogate, which no file or AWS tag can hold", "remove the stray character");
                return null;
            }

            return IsNull(scalar) ? null : scalar.Value;
        }

        Error(path, node, $"expected a single value, found {Describe(node)}", "write the value on the same line as its key");
        return null;
    }

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private void Record(string path, YamlNode node)
    {
        var (line, column) = Position(node);
        Map.Record(path, line, column);
    }

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"'{YamlGuard.Shorten(s.Value)}'",
        _ => "an unsupported node",
    };

    public static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static string Leaf(string path)
    {
        var parent = SourceMap.Parent(path);
        return parent.Length == 0 ? path : path[(parent.Length + 1)..];
    }

    /// <summary>The known key nearest to a typo (edit distance ≤ 2, or the same ignoring case).</summary>
    internal static string? Suggest(string key, IEnumerable<string> known) => Nearest.Of(key, known);
}

/// <summary>An item of a YAML list and its path. A class, not a (node, path) tuple: LINQ and collections over a tuple of
/// references have no ReadyToRun code and are JIT-compiled at start-up (bench/startup.sh).</summary>
internal sealed record SequenceItem(YamlNode Node, string Path);

/// <summary>Typed access to one mapping's keys; each getter reports a bad or missing value and returns null.</summary>
internal sealed class MappingReader(YamlBinder binder, YamlMappingNode node, string path)
{
    public string Path { get; } = path;

    public YamlMappingNode Node { get; } = node;

    public YamlNode? Get(string key) =>
        Node.Children.TryGetValue(new YamlScalarNode(key), out var value) && !YamlBinder.IsNull(value) ? value : null;

    public bool Has(string key) => Get(key) is not null;

    public string At(string key) => YamlBinder.Join(Path, key);

    public void Missing(string key, string hint) =>
        binder.Error(At(key), Node, $"'{key}' is required", hint);

    public string? String(string key, bool required = false, string? hint = null)
    {
        var node = Get(key);
        if (node is null)
        {
            if (required)
            {
                Missing(key, hint ?? $"add '{key}: ...' to {Path}");
            }

            return null;
        }

        return binder.Scalar(node, At(key));
    }

    public T? Enum<T>(string key, EnumNames<T> names)
        where T : struct
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (names.TryGetValue(text, out var value))
        {
            return value;
        }

        var suggestion = YamlBinder.Suggest(text, names.Names);
        binder.Error(At(key), Get(key), $"'{text}' is not a valid {key}" + (suggestion is null ? string.Empty : $"; did you mean '{suggestion}'?"),
            $"use one of: {string.Join(", ", names.Names)}");
        return null;
    }

    public Ipv4Cidr? Cidr(string key, bool required = false, string? hint = null)
    {
        var text = String(key, required, hint);
        if (text is null)
        {
            return null;
        }

        if (Ipv4Cidr.TryParse(text, out var cidr, out var error))
        {
            return cidr;
        }

        binder.Error(At(key), Get(key), $"invalid CIDR: {error}", "write an IPv4 prefix as a.b.c.d/n with no host bits set");
        return null;
    }

    public Ipv4Address? Address(string key, bool required = false)
    {
        var text = String(key, required, $"add '{key}: a.b.c.d'");
        if (text is null)
        {
            return null;
        }

        if (Ipv4Address.TryParse(text, out var address))
        {
            return address;
        }

        binder.Error(At(key), Get(key), $"'{text}' is not an IPv4 address", "write it as four numbers 0–255 separated by dots, e.g. 10.0.1.10");
        return null;
    }

    public int? Int(string key)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        binder.Error(At(key), Get(key), $"'{text}' is not a whole number", $"write {key} as digits, e.g. {key}: 5");
        return null;
    }

    public bool? Bool(string key)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        switch (text)
        {
            case "true" or "True" or "TRUE":
                return true;
            case "false" or "False" or "FALSE":
                return false;
            default:
                binder.Error(At(key), Get(key), $"'{text}' is not true or false", $"write {key}: true or {key}: false");
                return null;
        }
    }

    public HttpUrl? Url(YamlNode node, string itemPath)
    {
        var text = binder.Scalar(node, itemPath);
        if (text is null)
        {
            return null;
        }

        if (HttpUrl.TryCreate(text) is { } url)
        {
            return url;
        }

        binder.Error(itemPath, node, $"'{text}' is not an http(s) URL", "write a full URL such as https://api.binance.com/api/v3/time");
        return null;
    }
}
