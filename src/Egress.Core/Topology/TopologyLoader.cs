namespace Egress.Core.Topology;

/// <summary>The outcome of loading a topology: the model (when it bound) and every diagnostic.</summary>
public sealed record TopologyLoadResult(TopologyModel? Topology, IReadOnlyList<Diagnostic> Diagnostics, SourceMap Source)
{
    public bool Succeeded => Topology is not null && !Diagnostics.Any(d => d.IsError);

    public IEnumerable<Diagnostic> Errors => Diagnostics.Where(d => d.IsError);

    /// <summary>The model, or an exception listing every error (for callers that already validated).</summary>
    public TopologyModel Require() =>
        Succeeded ? Topology! : throw new TopologyException(Errors.ToList());
}

/// <summary>A topology that failed validation; the message lists every error.</summary>
public sealed class TopologyException(IReadOnlyList<Diagnostic> diagnostics)
    : Exception(string.Join(Environment.NewLine, diagnostics))
{
    public IReadOnlyList<Diagnostic> Diagnostics { get; } = diagnostics;
}

/// <summary>Text in, model and diagnostics out: parse, bind, fill defaults, validate. Reads no files.</summary>
public static class TopologyLoader
{
    public const string DefaultFileName = "egress.yaml";

    /// <summary>The largest topology accepted, in bytes (UTF-8) or characters. The seed is about 2 KB and a topology
    /// at every list limit below (64 regions of 64 hosts) about 600 KB, so 1 MiB refuses only what is not a
    /// topology (a log, an image, /dev/zero) before it costs memory: parsing 1 MiB of YAML takes about 30 MB.</summary>
    public const int MaxSize = 1024 * 1024;

    public static TopologyLoadResult Load(string yaml, string fileName = DefaultFileName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var map = new SourceMap(fileName);
        var diagnostics = new List<Diagnostic>();
        if (yaml.Length > MaxSize)
        {
            diagnostics.Add(TooLarge(fileName));
            return new TopologyLoadResult(null, diagnostics, map);
        }

        var topology = TopologyParser.Parse(yaml, map, diagnostics);
        if (topology is not null)
        {
            diagnostics.AddRange(TopologyValidator.Validate(topology, map));
        }

        var ordered = diagnostics.OrderBy(d => d.Line == 0 ? int.MaxValue : d.Line).ThenBy(d => d.Column).ToList();
        return new TopologyLoadResult(topology, ordered, map);
    }

    /// <summary>The diagnostic for a file over <see cref="MaxSize"/>; a reader that stops early reports the same.</summary>
    public static Diagnostic TooLarge(string fileName) =>
        new(DiagnosticSeverity.Error, fileName, 1, 1, string.Empty,
            $"the file is larger than {MaxSize / 1024} KiB, the most a topology may be",
            "point -f at a topology file ('egress init' writes one); a topology is a few KB");
}
