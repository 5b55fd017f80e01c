namespace Egress.Core.Topology;

/// <summary>The example topologies shipped in examples/ and embedded in the tool.</summary>
public static class Examples
{
    public const string Seed = "seed";

    public const string ThreeRegion = "three-region";

    /// <summary>The seed plus a standby gateway in another AZ of Tokyo.</summary>
    public const string Failover = "failover";

    public static IReadOnlyList<string> Names { get; } = [Seed, ThreeRegion, Failover];

    /// <summary>The example's YAML text exactly as shipped (comments included).</summary>
    public static string Text(string name)
    {
        if (!Names.Contains(name, StringComparer.Ordinal))
        {
            throw new ArgumentException($"Unknown example '{name}'; known: {string.Join(", ", Names)}.", nameof(name));
        }

        using var stream = typeof(Examples).Assembly.GetManifestResourceStream($"Egress.Core.Examples.{name}.yaml")
            ?? throw new InvalidOperationException($"The example '{name}' is missing from the assembly (a build error).");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static TopologyModel Load(string name) => TopologyLoader.Load(Text(name), $"{name}.yaml").Require();
}
