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

    public static TopologyLoadResult Load(string yaml, string fileName = DefaultFileName)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var map = new SourceMap(fileName);
        var diagnostics = new List<Diagnostic>();
        var topology = TopologyParser.Parse(yaml, map, diagnostics);
        if (topology is not null)
        {
            diagnostics.AddRange(TopologyValidator.Validate(topology, map));
        }

        var ordered = diagnostics.OrderBy(d => d.Line == 0 ? int.MaxValue : d.Line).ThenBy(d => d.Column).ToList();
        return new TopologyLoadResult(topology, ordered, map);
    }
}
