using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Processes;

namespace Egress.Verify.Tests;

/// <summary>A scripted vantage host: answers each command with a recorded output chosen by the first matching rule,
/// and records every command it was asked to run. A command no rule matches answers exit 127 and is remembered,
/// so a test can assert that the suite ran nothing unexpected.</summary>
internal sealed class ScriptedRunner(string host) : ICommandRunner
{
    private readonly List<(Func<CommandSpec, bool> When, Func<CommandSpec, CommandResult> Then)> _rules = [];

    public string Host { get; } = host;

    public List<CommandSpec> Calls { get; } = [];

    public List<CommandSpec> Unmatched { get; } = [];

    public ScriptedRunner On(Func<CommandSpec, bool> when, Func<CommandSpec, CommandResult> then)
    {
        _rules.Insert(0, (when, then)); // later rules override earlier ones
        return this;
    }

    public int Count(Func<CommandSpec, bool> when) => Calls.Count(when);

    public Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default)
    {
        Calls.Add(command);
        foreach (var (when, then) in _rules)
        {
            if (when(command))
            {
                return Task.FromResult(then(command));
            }
        }

        Unmatched.Add(command);
        return Task.FromResult(new CommandResult(127, "", $"{command.Program}: not scripted", TimeSpan.Zero));
    }

    public static bool IsCurlTo(CommandSpec spec, string host) =>
        spec.Program == "curl" && spec.Arguments.Any(a => a.StartsWith($"https://{host}/", StringComparison.Ordinal));

    public static int UrlCount(CommandSpec spec) => spec.Arguments.Count(a => a.StartsWith("https://", StringComparison.Ordinal));
}

/// <summary>The seed topology with a scripted client and gateway that pass every check; tests break one thing.</summary>
internal sealed class FakeEnvironment
{
    public static readonly Ipv4Address TokyoPublic = Ipv4Address.Parse("203.0.113.10");

    public FakeEnvironment(bool latencyEmulated = false, string example = "seed")
    {
        Topology = Examples.Load(example);
        LatencyEmulated = latencyEmulated;
        foreach (var host in Topology.Hosts)
        {
            Runners[host.Name] = new ScriptedRunner(host.Name)
                .On(s => s.Program == "egress-check", _ => Samples.Result("check-ok.json"));
        }

        foreach (var client in Topology.Hosts.Where(h => h.Role == HostRole.Client))
        {
            Runners[client.Name]
                .On(s => ScriptedRunner.IsCurlTo(s, "api.binance.com") && ScriptedRunner.UrlCount(s) == 1, _ => Samples.Result(latencyEmulated ? "curl-cold-ok.txt" : "curl-cold-fast.txt"))
                .On(s => ScriptedRunner.IsCurlTo(s, "api.binance.com") && ScriptedRunner.UrlCount(s) > 1, _ => Samples.Result("curl-keepalive-ok.txt"))
                .On(s => ScriptedRunner.IsCurlTo(s, "ipinfo.io"), _ => Samples.Result("ipinfo-tokyo.txt"))
                .On(s => s.Program == "mtr", _ => Samples.Result("mtr-ok.json"))
                .On(s => s.Program == "ping", _ => Samples.Result("ping-ok.txt"))
                .On(s => s.Program == "ip" && s.Arguments.Contains("route"), _ => Route(TunnelPairs.Of(Topology).First(p => p.Client == client).GatewayAddress.ToString()));
        }
    }

    public TopologyModel Topology { get; }

    /// <summary>What `ip -4 -o route get` prints on a client whose internet routes go through the tunnel to <paramref name="via"/>.</summary>
    public static CommandResult Route(string via) =>
        Samples.Output($"192.0.2.1 via {via} dev eg1 src 192.168.250.2 uid 0 \\    cache \n");

    /// <summary>Public addresses the environment knows (tests add standbys).</summary>
    public Dictionary<string, Ipv4Address> PublicAddresses { get; } = new() { ["tokyo-nat"] = TokyoPublic, ["sg-client"] = Ipv4Address.Parse("198.51.100.10") };

    public bool LatencyEmulated { get; }

    public Dictionary<string, ScriptedRunner> Runners { get; } = [];

    public ScriptedRunner Client => Runners["sg-client"];

    public ScriptedRunner Gateway => Runners["tokyo-nat"];

    public VerifyEnvironment Build() => new(
        "fake",
        Topology,
        name => Runners[name],
        PublicAddresses,
        LatencyEmulated,
        name => CommandSpec.Of("egress-check", name));

    public static VerifyOptions Options(int rounds = 2) => new() { Rounds = rounds, ColdSamples = 3, KeepAliveRequests = 10, PathCycles = 2, PingCount = 3 };
}
