using System.Text.RegularExpressions;

namespace Egress.Core.Topology;

/// <summary>What an EC2 instance type's name says: its family, its CPU architecture, its memory where known.</summary>
public static partial class InstanceTypes
{
    private static readonly Dictionary<string, int> MemoryMiB = new(StringComparer.Ordinal)
    {
        ["t3.nano"] = 512, ["t3.micro"] = 1024, ["t3.small"] = 2048, ["t3.medium"] = 4096, ["t3.large"] = 8192,
        ["t3a.nano"] = 512, ["t3a.micro"] = 1024, ["t3a.small"] = 2048, ["t3a.medium"] = 4096,
        ["t4g.nano"] = 512, ["t4g.micro"] = 1024, ["t4g.small"] = 2048, ["t4g.medium"] = 4096,
        ["c6gn.medium"] = 2048, ["c7gn.medium"] = 2048, ["c5n.large"] = 5376, ["c6in.large"] = 4096,
        ["m5.large"] = 8192, ["m6i.large"] = 8192, ["m7g.medium"] = 4096,
    };

    /// <summary>Family.size, e.g. t3.small, c7gn.medium, m5.2xlarge.</summary>
    public static bool IsWellFormed(string name) => NamePattern().IsMatch(name);

    /// <summary>Graviton families carry a 'g' after the generation digit (t4g, c7gn, m6gd): arm64; all else amd64.</summary>
    public static CpuArchitecture ArchitectureOf(string name)
    {
        var match = NamePattern().Match(name);
        return match.Success && match.Groups["attrs"].Value.Contains('g', StringComparison.Ordinal)
            ? CpuArchitecture.Arm64
            : CpuArchitecture.Amd64;
    }

    /// <summary>Memory in MiB for the types this tool knows; null otherwise.</summary>
    public static int? MemoryOf(string name) => MemoryMiB.TryGetValue(name, out var mib) ? mib : null;

    [GeneratedRegex("^(?<family>[a-z]+)(?<gen>[0-9]+)(?<attrs>[a-z-]*)\\.(?<size>nano|micro|small|medium|large|metal|[0-9]*xlarge|metal-[0-9]+xl)$")]
    private static partial Regex NamePattern();
}
