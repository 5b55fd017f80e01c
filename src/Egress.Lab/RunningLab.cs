using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Lab.Services;
using Egress.Lab.World;

namespace Egress.Lab;

/// <summary>A lab that is up, opened from its state directory: what the verify suite needs to run against it
/// (a runner per host, public addresses, whether latency is emulated, each host's check command).</summary>
public sealed class RunningLab
{
    private RunningLab(LabStateDirectory state, LabManifest manifest)
    {
        State = state;
        Manifest = manifest;
        Topology = manifest.LoadTopology();
        Plan = LabWorldPlanner.Plan(Topology, manifest.Id, manifest.Overlay, manifest.Naive, manifest.Instances, manifest.Ipv6);
    }

    public string Id => Manifest.Id;

    public LabStateDirectory State { get; }

    public LabManifest Manifest { get; }

    public TopologyModel Topology { get; }

    public LabWorldPlan Plan { get; }

    public bool LatencyEmulated => Manifest.LatencyEmulated;

    /// <summary>Opens lab <paramref name="id"/>; throws <see cref="LabException"/> when it is not up.</summary>
    public static RunningLab Open(string id)
    {
        var state = new LabStateDirectory(id);
        return state.Exists
            ? new RunningLab(state, state.Read())
            : throw new LabException($"no lab '{id}' is up (no {state.Manifest}). Start one with 'sudo egress lab up'.");
    }

    /// <summary>Runs commands inside <paramref name="host"/>'s namespace (`ip netns exec egl-ID-host-NAME ...`).</summary>
    public ICommandRunner RunnerFor(string host, ICommandRunner? inner = null) => new NamespaceRunner(Plan.HostNamed(host).Namespace, inner);

    public ICommandRunner InternetRunner(ICommandRunner? inner = null) => new NamespaceRunner(Plan.InternetNamespace, inner);

    /// <summary>Every host that has a public address, with it (the IGW's 1:1 NAT).</summary>
    public IReadOnlyDictionary<string, Ipv4Address> PublicAddresses =>
        Plan.Hosts.Where(h => h.PublicIp is not null).ToDictionary(h => h.Name, h => h.PublicIp!.Value);

    /// <summary>The host's public address (the IGW's 1:1 NAT), or null when it has none.</summary>
    public string? PublicAddressOf(string host) => Plan.HostNamed(host).PublicIp?.ToString();

    /// <summary>The host's `check` command, to be run with <see cref="RunnerFor"/>: `sh SCRIPT check` with EGRESS_NETNS_ONLY=1.</summary>
    public CommandSpec CheckCommand(string host)
    {
        _ = Plan.HostNamed(host);
        return new CommandSpec("sh", [State.HostScript(host), "check"])
        {
            Environment = ScriptEnvironment(State, host),
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>EGRESS_NETNS_ONLY=1 (the script leaves machine-wide settings alone) and a run and a state directory of
    /// the host's own (the state one keeps the saved /etc/resolv.conf), so hosts sharing this machine never share saved state.</summary>
    public static IReadOnlyDictionary<string, string> ScriptEnvironment(LabStateDirectory state, string host)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new Dictionary<string, string>
        {
            [LabController.NetnsOnlyVariable] = "1",
            ["EGRESS_RUN_DIR"] = Path.Combine(state.Path, "hosts", host + ".run"),
            ["EGRESS_STATE_DIR"] = Path.Combine(state.Path, "hosts", host + ".state"),
        };
    }

    /// <summary>The services process PID when it is alive.</summary>
    public int? ServicesPid => LabController.TryReadPid(State.ServicesPid) is { } pid && LabController.IsAlive(pid) ? pid : null;

    /// <summary>Runs the services of lab <paramref name="id"/> in this process until cancelled (the hidden
    /// `egress lab serve` verb, started by `lab up` inside the internet namespace).</summary>
    public static async Task ServeAsync(string id, CancellationToken cancellationToken)
    {
        var lab = Open(id);
        await File.WriteAllTextAsync(lab.State.ServicesPid, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        await LabServices.RunAsync(lab.Plan, lab.State, () => File.WriteAllText(lab.State.ServicesReady, "ready\n"), cancellationToken);
    }
}
