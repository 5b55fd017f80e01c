using System.Text.Json;
using System.Text.Json.Serialization;
using Egress.Core;
using Egress.Core.Topology;
using Egress.Lab.World;

namespace Egress.Lab;

/// <summary>What a running lab is, written to /run/egress-lab/&lt;id&gt;/manifest.json at `up` so that
/// `status`, `exec`, `verify`, `down` and the services process (other processes) can find it.
/// The world itself is re-planned from the topology: the planner is pure, so the plan is the same.</summary>
public sealed record LabManifest
{
    /// <summary>docs/json.md; a manifest written before versions existed reads as 1.</summary>
    public int SchemaVersion { get; init; } = 1;

    public required string Id { get; init; }

    /// <summary>The resolved topology (every default filled in), as YAML.</summary>
    public required string Topology { get; init; }

    public required bool Naive { get; init; }

    /// <summary>Namespaces (default) or VMs; a manifest written before VMs existed reads as namespaces.</summary>
    public LabInstances Instances { get; init; } = LabInstances.Namespaces;

    /// <summary>Written as its camelCase name (the converter sits here, not on Core's enum: an attribute on the enum would
    /// load System.Text.Json into every Enum.ToString of it, validate's start path included).</summary>
    [JsonConverter(typeof(JsonCamelCaseEnum<OverlayMode>))]
    public required OverlayMode Overlay { get; init; }

    /// <summary>How the overlay was chosen, e.g. "vxlan (topology says ipip; this kernel has no ipip)".</summary>
    public required string OverlayNote { get; init; }

    public required bool LatencyEmulated { get; init; }

    public required string LatencyNote { get; init; }

    public required DateTimeOffset Created { get; init; }

    /// <summary>`lab up --resolver-delay`: milliseconds each of these regions' VPC resolver holds a query (none: answers at once).</summary>
    public IReadOnlyDictionary<string, int> ResolverDelays { get; init; } = new Dictionary<string, int>();

    /// <summary>`lab up` with IPv6 on the clients' subnets (<see cref="LabIpv6"/>); a manifest written before it reads as false.</summary>
    public bool Ipv6 { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, LabJson.Egress.LabManifest);

    public static LabManifest FromJson(string json) =>
        JsonSerializer.Deserialize(json, LabJson.Egress.LabManifest) ?? throw new InvalidDataException("The lab manifest is empty.");

    public TopologyModel LoadTopology() => TopologyLoader.Load(Topology, $"lab {Id} manifest").Require();

    public LabWorldPlan Plan() => LabWorldPlanner.Plan(LoadTopology(), Id, Overlay, Naive, Instances, Ipv6);
}

/// <summary>The files of one lab under /run/egress-lab/&lt;id&gt;/.</summary>
public sealed class LabStateDirectory(string id)
{
    public string Id { get; } = id;

    public string Path { get; } = LabNames.StateDirectory(id);

    public string Manifest => System.IO.Path.Combine(Path, "manifest.json");

    public string CaCertificate => System.IO.Path.Combine(Path, "ca.crt");

    public string LeafCertificate => System.IO.Path.Combine(Path, "services.crt");

    public string LeafKey => System.IO.Path.Combine(Path, "services.key");

    public string ServicesLog => System.IO.Path.Combine(Path, "services.log");

    public string ServicesPid => System.IO.Path.Combine(Path, "services.pid");

    public string ServicesReady => System.IO.Path.Combine(Path, "services.ready");

    public string HostScript(string host) => System.IO.Path.Combine(Path, "hosts", host + ".sh");

    /// <summary>PID of the client's failover watcher (`egress-host watch`), written by its supervisor at every (re)start.</summary>
    public string WatcherPid(string host) => System.IO.Path.Combine(Path, "hosts", host + ".watch.pid");

    public const string SupervisorPidSuffix = ".watch.supervisor.pid";

    /// <summary>PID of the shell that supervises the client's watcher (restarts it when it exits), started by `up`.</summary>
    public string WatcherSupervisorPid(string host) => System.IO.Path.Combine(Path, "hosts", host + SupervisorPidSuffix);

    public string WatcherLog(string host) => System.IO.Path.Combine(Path, "hosts", host + ".watch.log");

    /// <summary>The watcher's state file (first line "active NAME MS"; NAME "-" when none), under the host's EGRESS_RUN_DIR.</summary>
    public string FailoverState(string host) => System.IO.Path.Combine(Path, "hosts", host + ".run", host, "failover");

    /// <summary>The pid, ready and log files of a region's delaying resolver forwarder (`lab up --resolver-delay`).</summary>
    public string ResolverDelayFile(string region, string extension) => System.IO.Path.Combine(Path, "ns", "resolver-delay." + region + "." + extension);

    public string NamespaceFile(string ns, string extension) => System.IO.Path.Combine(Path, "ns", ns + "." + extension);

    /// <summary>"PID START" of the process that made the lab (<see cref="LabOwner"/>); written first, exclusively.</summary>
    public string OwnerFile => System.IO.Path.Combine(Path, "owner");

    public bool Exists => File.Exists(Manifest);

    /// <summary>Claims the id for <paramref name="owner"/>: creates the owner file with O_EXCL, so of two `lab up`s with one
    /// id exactly one goes on and the other touches nothing. False when the id is taken.</summary>
    public bool TryClaim(LabOwner owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        Directory.CreateDirectory(Path);
        try
        {
            using var stream = new FileStream(OwnerFile, FileMode.CreateNew, FileAccess.Write);
            using var writer = new StreamWriter(stream);
            writer.Write(owner.ToString());
            return true;
        }
        catch (IOException) when (File.Exists(OwnerFile))
        {
            return false;
        }
    }

    /// <summary>The lab's owner, or null when it has no (readable) owner file: a lab of an older egress, or a leftover.</summary>
    public LabOwner? ReadOwner()
    {
        try
        {
            return LabOwner.Parse(File.ReadAllText(OwnerFile));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public LabManifest Read() => LabManifest.FromJson(File.ReadAllText(Manifest));

    public void Write(LabManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        Directory.CreateDirectory(Path);
        var temp = Manifest + ".tmp";
        File.WriteAllText(temp, manifest.ToJson());
        File.Move(temp, Manifest, overwrite: true);
    }

    /// <summary>Ids of every lab with a state directory.</summary>
    public static IReadOnlyList<string> List()
    {
        var dir = LabNames.StateRoot;
        return Directory.Exists(dir)
            ? [.. Directory.GetDirectories(dir).Select(System.IO.Path.GetFileName).OfType<string>().Where(LabNames.IsValidId).Order(StringComparer.Ordinal)]
            : [];
    }
}

/// <summary>The process that made a lab: its PID and its start time (clock ticks after boot, field 22 of /proc/PID/stat),
/// so a recycled PID is never taken for the owner.</summary>
public sealed record LabOwner(int Pid, long StartTicks)
{
    public static LabOwner Current { get; } = new(Environment.ProcessId, StartTicksOf(Environment.ProcessId) ?? 0);

    /// <summary>True while the owner process runs (same PID, same start time, not a zombie).</summary>
    public bool IsAlive => StartTicksOf(Pid) is { } ticks && ticks == StartTicks;

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Pid} {StartTicks}");

    public static LabOwner? Parse(string text)
    {
        var fields = (text ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return fields.Length == 2
            && int.TryParse(fields[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
            && long.TryParse(fields[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks)
            ? new LabOwner(pid, ticks)
            : null;
    }

    /// <summary>Field 22 (starttime) of /proc/PID/stat, or null when the process is gone or a zombie.</summary>
    internal static long? StartTicksOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            var fields = close < 0 || close + 2 >= stat.Length ? [] : stat[(close + 2)..].Split(' ');
            // fields[0] is field 3 (state); starttime is field 22.
            return fields.Length < 20 || fields[0] == "Z" ? null
                : long.TryParse(fields[19], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
