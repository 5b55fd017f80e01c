using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Verify;

namespace Egress.Doctor.Tests;

/// <summary>The walk's order: it stops at the first broken link and skips the rest.</summary>
public sealed class DoctorWalkTests
{
    private static readonly TopologyModel Seed = Examples.Load(Examples.Seed) is var t ? t with { Overlay = t.Overlay with { Mode = OverlayMode.Ipip } } : null!;

    /// <summary>Answers every command with a passing host check; records what ran.</summary>
    private sealed class HealthyHost(string host) : ICommandRunner
    {
        public List<string> Ran { get; } = [];

        public Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default)
        {
            lock (Ran)
            {
                Ran.Add(command.ToString());
            }

            var check = $$"""{"host":"{{host}}","ok":true,"invariants":[{"name":"uplink.found","ok":true,"detail":"x on eth0"}],"warnings":[]}""";
            return Task.FromResult(new CommandResult(0, command.Arguments.Contains("check") ? check : string.Empty, string.Empty, TimeSpan.Zero));
        }
    }

    [Fact]
    public async Task EnvironmentFinding_StopsTheWalk_LaterLinksSkipped()
    {
        var runners = Seed.Hosts.ToDictionary(h => h.Name, h => new HealthyHost(h.Name));
        var hosts = new VerifyEnvironment("test", Seed, h => runners[h], new Dictionary<string, Ipv4Address>(), false, h => CommandSpec.Of("sh", "script", "check"));
        var broken = DoctorCheck.Broken("peering.active", PathLink.Environment, null, "active", "pending-acceptance", "accept it", FixedBy.EgressApply);

        var report = await DoctorWalk.RunAsync(new DoctorEnvironment(hosts) { EnvironmentChecks = _ => Task.FromResult<IReadOnlyList<DoctorCheck>>([broken]) });

        Assert.Equal(PathLink.Environment, report.StoppedAt);
        Assert.False(report.Healthy);
        Assert.Equal([broken], report.Findings);
        Assert.Equal([PathLink.Client, PathLink.Gateway, PathLink.Tunnel, PathLink.Egress, PathLink.Dns],
            report.Checks.Where(c => c.Status == DoctorStatus.Skipped).Select(c => c.Link));
        // No path probe ran: only the evidence every walk gathers first (checks, boot unit, gateway counters).
        Assert.DoesNotContain(runners.Values.SelectMany(r => r.Ran), c => c.StartsWith("ping", StringComparison.Ordinal) || c.Contains("curl", StringComparison.Ordinal));
    }
}
