using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Egress.Lab;

/// <summary>Lab ids and the names derived from them: every namespace is egl-&lt;id&gt;-&lt;role&gt;, so two labs
/// never collide and `lab down --all` can find every leftover.</summary>
public static partial class LabNames
{
    public const string Prefix = "egl-";

    public const string StateRoot = "/run/egress-lab";

    public const string NetnsEtc = "/etc/netns";

    public const int MaxIdLength = 12;

    /// <summary>Ids are lower-case letters and digits only, so "egl-&lt;id&gt;-" never prefixes another lab's names.</summary>
    public static bool IsValidId(string? id) => id is not null && IdPattern().IsMatch(id);

    public static string ValidIdRule => $"1 to {MaxIdLength} lower-case letters or digits (e.g. seed, t1a2b3c)";

    /// <summary>A short id from the stack name: "egress-seed" → "seed", "egress-three-region" → "threeregion".</summary>
    public static string IdFromStack(string stack)
    {
        ArgumentNullException.ThrowIfNull(stack);
        var name = stack.StartsWith("egress-", StringComparison.Ordinal) ? stack["egress-".Length..] : stack;
        var builder = new StringBuilder();
        foreach (var c in name.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit))
        {
            builder.Append(c);
        }

        var id = builder.ToString();
        if (id.Length > MaxIdLength)
        {
            id = id[..MaxIdLength];
        }

        return id.Length == 0 ? "lab" : id;
    }

    /// <summary>A random id "r" + 6 hex digits for one-shot labs (`lab run`) and tests ("t").</summary>
    public static string RandomId(char letter = 'r') =>
        letter + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    public static string NamespacePrefix(string id) => $"{Prefix}{id}-";

    public static string HostNamespace(string id, string host) => $"{Prefix}{id}-host-{host}";

    public static string RouterNamespace(string id, string region) => $"{Prefix}{id}-vpc-{region}";

    public static string InternetNamespace(string id) => $"{Prefix}{id}-internet";

    /// <summary>The scratch namespace `lab up` probes kernel features in.</summary>
    public static string ProbeNamespace(string id) => $"{Prefix}{id}-probe";

    public static string StateDirectory(string id) => Path.Combine(StateRoot, id);

    [GeneratedRegex("^[a-z0-9]{1,12}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
