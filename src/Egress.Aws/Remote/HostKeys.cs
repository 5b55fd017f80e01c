using System.Text.RegularExpressions;

namespace Egress.Aws.Remote;

/// <summary>An SSH host key fingerprint as OpenSSH prints it: type and SHA256 (unpadded base64, no "SHA256:" prefix).</summary>
public sealed record HostKeyFingerprint(string Type, string Sha256);

/// <summary>Reads the host key fingerprints cloud-init writes to the instance's console at first boot
/// (between -----BEGIN SSH HOST KEY FINGERPRINTS----- and -----END SSH HOST KEY FINGERPRINTS-----).</summary>
public static partial class ConsoleHostKeys
{
    public static IReadOnlyList<HostKeyFingerprint> Parse(string consoleOutput)
    {
        ArgumentNullException.ThrowIfNull(consoleOutput);
        var begin = consoleOutput.LastIndexOf("-----BEGIN SSH HOST KEY FINGERPRINTS-----", StringComparison.Ordinal);
        if (begin < 0)
        {
            return [];
        }

        var end = consoleOutput.IndexOf("-----END SSH HOST KEY FINGERPRINTS-----", begin, StringComparison.Ordinal);
        var block = end < 0 ? consoleOutput[begin..] : consoleOutput[begin..end];
        return [.. FingerprintLine().Matches(block).Select(m => new HostKeyFingerprint(m.Groups["type"].Value, m.Groups["fp"].Value))];
    }

    /// <summary>The host public keys themselves ("ssh-ed25519 AAAA..."), from cloud-init's last SSH HOST KEY KEYS block on
    /// the console: what OpenSSH's known_hosts needs (the fingerprints are enough for the SSH.NET runner).</summary>
    public static IReadOnlyList<string> ParseKeys(string consoleOutput)
    {
        ArgumentNullException.ThrowIfNull(consoleOutput);
        var begin = consoleOutput.LastIndexOf("-----BEGIN SSH HOST KEY KEYS-----", StringComparison.Ordinal);
        var end = begin < 0 ? -1 : consoleOutput.IndexOf("-----END SSH HOST KEY KEYS-----", begin, StringComparison.Ordinal);
        return begin < 0 || end < 0 ? [] : [.. KeyLine().Matches(consoleOutput[begin..end]).Select(m => m.Groups["type"].Value + " " + m.Groups["key"].Value)];
    }

    [GeneratedRegex(@"(?<type>(?:ssh|ecdsa-sha2|sk-ssh|sk-ecdsa-sha2)-[A-Za-z0-9@.-]+) (?<key>AAAA[A-Za-z0-9+/]+={0,2})", RegexOptions.Multiline)]
    private static partial Regex KeyLine();

    [GeneratedRegex(@"^(?:.*?:\s)?\d+\s+SHA256:(?<fp>[A-Za-z0-9+/]+)\s+.*\((?<type>[A-Z0-9-]+)\)\s*$", RegexOptions.Multiline)]
    private static partial Regex FingerprintLine();
}

/// <summary>Decides whether to trust the key a host presents.</summary>
public interface IHostKeyPolicy
{
    /// <summary>True to connect. <paramref name="sha256"/> is unpadded base64 as SSH.NET and OpenSSH print it.</summary>
    bool Accept(string host, string keyType, string sha256);

    /// <summary>How the key was checked, for the user ("pinned from the console output", "trusted on first use").</summary>
    string Description { get; }
}

/// <summary>Trust only the fingerprints the instance printed to its console at boot: a man in the middle cannot forge them.</summary>
public sealed class PinnedHostKeys(IReadOnlyList<HostKeyFingerprint> fingerprints) : IHostKeyPolicy
{
    public string Description => $"host key pinned from the instance console output ({fingerprints.Count} fingerprints)";

    public bool Accept(string host, string keyType, string sha256) => fingerprints.Any(f => f.Sha256 == sha256);
}

/// <summary>Trust on first use: the first key seen for a host is written to a file and every later key must match it.
/// Weaker than pinning (the first connection is not verified); egress says so when it uses it.</summary>
public sealed class TrustOnFirstUse(string knownHostsFile, Action<string>? announce = null) : IHostKeyPolicy
{
    private readonly object _gate = new();

    public string Description => $"host key trusted on first use (the console output had no fingerprints), remembered in {knownHostsFile}";

    public bool Accept(string host, string keyType, string sha256)
    {
        lock (_gate)
        {
            var known = File.Exists(knownHostsFile)
                ? File.ReadAllLines(knownHostsFile).Select(l => l.Split(' ', 3)).Where(p => p.Length == 3).ToList()
                : [];
            var entry = known.FirstOrDefault(p => p[0] == host && p[1] == keyType);
            if (entry is not null)
            {
                return entry[2] == sha256;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(knownHostsFile))!);
            File.AppendAllText(knownHostsFile, $"{host} {keyType} {sha256}\n");
            announce?.Invoke($"{host}: trusting {keyType} key SHA256:{sha256} on first use (not verified); it is pinned from now on in {knownHostsFile}");
            return true;
        }
    }
}
