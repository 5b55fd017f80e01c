using Egress.Core.Topology;
using Egress.Processes;
using Egress.Tests.Shared;

namespace Egress.Lab.RootTests;

/// <summary>Starting and removing labs from tests: random ids t&lt;6 hex&gt;, the services process from the
/// egress.dll next to the tests, and always a `down` afterwards.</summary>
internal static class LabTestSupport
{
    public static CommandSpec ServicesCommand(string id) =>
        new(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } dotnet ? dotnet : "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "egress.dll"), "lab", "serve", "--id", id]);

    public static void RequirePrerequisites()
    {
        Prerequisites.RequireRoot();
        Prerequisites.RequireProgram("nft", "nftables");
        Prerequisites.RequireProgram("ip", "iproute2");
        Prerequisites.RequireProgram("curl", "curl");
        Prerequisites.RequireProgram("mtr", "mtr-tiny");
        Prerequisites.RequireProgram("iperf3", "iperf3");
        Prerequisites.RequireProgram("ping", "iputils-ping");
        Prerequisites.RequireProgram("dnsmasq", "dnsmasq-base");
    }

    /// <summary>The lab's internet address, allowed SSH (tcp/22) by <see cref="WithSshFromInternet"/>.</summary>
    public const string InternetAddress = "192.0.2.1";

    /// <summary><paramref name="topology"/> with `access.ssh: 192.0.2.1/32`: the security groups (emulated by the lab as on
    /// AWS) let the lab's internet connect to port 22 of the hosts' public addresses, and nothing else in.</summary>
    public static TopologyModel WithSshFromInternet(TopologyModel topology) =>
        topology with { Access = new Access { Ssh = Core.Net.Ipv4Cidr.Parse(InternetAddress + "/32") } };

    /// <summary>`egress lab resolver --id ID --region REGION` from the egress.dll next to the tests.</summary>
    public static CommandSpec ResolverCommand(string id, string region) =>
        ServicesCommand(id) with { Arguments = [Path.Combine(AppContext.BaseDirectory, "egress.dll"), "lab", "resolver", "--id", id, "--region", region] };

    public static Task<RunningLab> UpAsync(TopologyModel topology, bool naive = false, string? id = null, IReadOnlyDictionary<string, int>? resolverDelays = null) =>
        LabController.Default.UpAsync(new LabUpOptions
        {
            Topology = topology,
            Id = id ?? LabNames.RandomId('t'),
            Naive = naive,
            ServicesCommand = ServicesCommand,
            ResolverDelays = resolverDelays ?? new Dictionary<string, int>(),
            ResolverCommand = ResolverCommand,
            Scripts = HostRendererScripts.Instance,
        });

    /// <summary>The verify suite against the lab, as `lab verify` runs it (with the lab's counter checks every round),
    /// measuring less than the CLI's defaults to keep the tests quick.</summary>
    public static async Task<Egress.Verify.VerifyReport> VerifyAsync(RunningLab lab, int rounds = 2)
    {
        var environment = await Egress.Cli.LabVerification.EnvironmentAsync(lab, CancellationToken.None);
        return await new Egress.Verify.VerifySuite().RunAsync(
            environment,
            new Egress.Verify.VerifyOptions { Rounds = rounds, ColdSamples = 2, KeepAliveRequests = 3, PathCycles = 2, PingCount = 2 },
            null,
            CancellationToken.None);
    }

    public static string Describe(Egress.Verify.VerifyReport report) =>
        string.Join("\n", report.Summaries().Select(s => $"{s.Check.Id} {s.Check.Host} {s.Check.Status} {s.Detail}"));

    public static async Task<CommandResult> RunOkAsync(this ICommandRunner runner, params string[] command)
    {
        var spec = new CommandSpec(command[0], command[1..]);
        return (await runner.RunAsync(spec)).EnsureSuccess(spec);
    }
}

/// <summary>One seed lab (SSH allowed from the lab's internet) shared by the tests of a class; removed when they are done.</summary>
public sealed class SeedLabFixture : IAsyncLifetime
{
    private RunningLab? _lab;

    public RunningLab Lab => _lab ?? throw new InvalidOperationException("the seed lab did not come up (see the first failing test)");

    public async Task InitializeAsync()
    {
        if (!Prerequisites.IsRoot && !Prerequisites.InCi)
        {
            return; // Every test here is a [RootFact] and skipped.
        }

        LabTestSupport.RequirePrerequisites();
        _lab = await LabTestSupport.UpAsync(LabTestSupport.WithSshFromInternet(Examples.Load(Examples.Seed)));
    }

    public async Task DisposeAsync()
    {
        if (_lab is not null)
        {
            await LabController.Default.DownAsync(_lab.Id);
        }
    }
}
