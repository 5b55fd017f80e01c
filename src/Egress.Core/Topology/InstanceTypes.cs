namespace Egress.Core.Topology;

/// <summary>What an EC2 instance type's name says: its family, its CPU architecture, its memory where known.</summary>
public static class InstanceTypes
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
    public static bool IsWellFormed(string name) => TryParse(name, out _);

    /// <summary>Graviton families carry a 'g' after the generation digit (t4g, c7gn, m6gd): arm64; all else amd64.</summary>
    public static CpuArchitecture ArchitectureOf(string name) =>
        TryParse(name, out var attributes) && attributes.Contains('g', StringComparison.Ordinal) ? CpuArchitecture.Arm64 : CpuArchitecture.Amd64;

    /// <summary>Memory in MiB for the types this tool knows; null otherwise.</summary>
    public static int? MemoryOf(string name) => MemoryMiB.TryGetValue(name, out var mib) ? mib : null;

    /// <summary>Reads family letters, generation digits, attribute letters ('g' Graviton, 'n' network, 'd' disk, ...),
    /// '.', size: what the regex ^[a-z]+[0-9]+(?&lt;attrs&gt;[a-z-]*)\.(nano|micro|small|medium|large|metal|[0-9]*xlarge|metal-[0-9]+xl)$
    /// matches, bar a trailing newline. A loop, not a regex: a generated regex's character-class search JIT-compiles
    /// vectorised framework code on every start of 'egress validate' (bench/startup.sh).</summary>
    private static bool TryParse(string name, out string attributes)
    {
        attributes = string.Empty;
        var i = Skip(name, 0, static c => c is >= 'a' and <= 'z');
        var generation = i;
        i = Skip(name, i, static c => c is >= '0' and <= '9');
        if (generation == 0 || i == generation)
        {
            return false;
        }

        var start = i;
        i = Skip(name, i, static c => c is (>= 'a' and <= 'z') or '-');
        if (i >= name.Length || name[i] != '.')
        {
            return false;
        }

        attributes = name[start..i];
        return IsSize(name.AsSpan(i + 1));
    }

    private static bool IsSize(ReadOnlySpan<char> size)
    {
        if (size is "nano" or "micro" or "small" or "medium" or "large" or "metal")
        {
            return true;
        }

        if (size.EndsWith("xlarge", StringComparison.Ordinal))
        {
            return AllDigits(size[..^"xlarge".Length], minimum: 0);
        }

        return size.StartsWith("metal-", StringComparison.Ordinal) && size.EndsWith("xl", StringComparison.Ordinal) &&
            size.Length >= "metal-xl".Length && AllDigits(size["metal-".Length..^"xl".Length], minimum: 1);
    }

    private static bool AllDigits(ReadOnlySpan<char> text, int minimum)
    {
        foreach (var c in text)
        {
            if (c is not (>= '0' and <= '9'))
            {
                return false;
            }
        }

        return text.Length >= minimum;
    }

    private static int Skip(string text, int from, Func<char, bool> allowed)
    {
        while (from < text.Length && allowed(text[from]))
        {
            from++;
        }

        return from;
    }
}
