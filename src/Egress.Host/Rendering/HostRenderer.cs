using System.Text;
using Egress.Core;
using Egress.Core.Topology;
using Egress.Host.Plan;

namespace Egress.Host.Rendering;

public enum RenderFormat
{
    /// <summary>The POSIX sh script: apply, check, down, status.</summary>
    Script,

    /// <summary>#cloud-config user data that installs the packages, writes script and unit, and starts the unit.</summary>
    CloudInit,

    /// <summary>The systemd unit that applies the script at boot and, for a client, the failover watcher's unit after it
    /// (each preceded by a <c># PATH</c> comment line naming where it goes).</summary>
    Systemd,
}

/// <summary>Where the script lives on an EC2 host (cloud-init writes it there; the unit runs it).</summary>
public static class HostScript
{
    public const string InstalledPath = "/usr/local/sbin/egress-host";

    public const string UnitPath = "/etc/systemd/system/egress-host.service";

    public const string UnitName = "egress-host.service";

    /// <summary>The client's failover watcher (<c>egress-host watch</c>), restarted whenever it exits.</summary>
    public const string WatchUnitPath = "/etc/systemd/system/egress-host-watch.service";

    public const string WatchUnitName = "egress-host-watch.service";

    /// <summary>EC2's user-data limit (bytes, before base64): for the gzip-compressed document (<see cref="UserDataWire"/>).</summary>
    public const int UserDataLimit = UserDataWire.Limit;

    public static readonly IReadOnlyList<string> Packages = ["iproute2", "nftables", "curl", "mtr-tiny"];

    /// <summary>The packages a host's plan needs: <see cref="Packages"/>, plus dnsmasq-base (the dnsmasq binary without
    /// the dnsmasq service, so nothing else starts listening on port 53) when the host runs a DNS forwarder or stub.</summary>
    public static IReadOnlyList<string> PackagesFor(Plan.HostPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return plan.Steps.Any(s => s is Plan.DnsForwarder or Plan.DnsStub) ? [.. Packages, "dnsmasq-base"] : Packages;
    }
}

/// <summary>Renders a host of the topology. The overlay mode must be concrete (ipip, gre, vxlan): <c>auto</c>
/// throws <see cref="ArgumentException"/>, because the tunnel MTU and the commands depend on the mode and a script
/// that guessed at run time could not be checked against a golden file. The lab resolves <c>auto</c> by probing its
/// kernel; on EC2 (Ubuntu has ipip) use ipip.</summary>
public static class HostRenderer
{
    /// <summary>The host's ordered, typed steps. Throws <see cref="ArgumentException"/> for an unknown host,
    /// overlay mode auto, or a host without a tunnel peer.</summary>
    public static HostPlan Plan(TopologyModel topology, string hostName) => HostPlanner.Build(topology, hostName);

    public static string Render(TopologyModel topology, string hostName, RenderFormat format)
    {
        var plan = Plan(topology, hostName);
        return format switch
        {
            RenderFormat.Script => ScriptRenderer.Render(plan),
            RenderFormat.Systemd => Units(plan),
            RenderFormat.CloudInit => FitUserData(plan, CloudInit(plan)),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        };
    }

    /// <summary>The client's watcher unit (<see cref="HostScript.WatchUnitName"/>); null for a gateway.</summary>
    public static string? RenderWatchUnit(TopologyModel topology, string hostName) => WatchUnit(Plan(topology, hostName));

    /// <summary>Both units as `render --format systemd` prints them: the apply unit, then the watcher's, each after a
    /// comment naming its path.</summary>
    private static string Units(HostPlan plan) =>
        $"# {HostScript.UnitPath}\n{Unit(plan)}" + (WatchUnit(plan) is { } watch ? $"\n# {HostScript.WatchUnitPath}\n{watch}" : string.Empty);

    // Restarted whenever it exits, without systemd's start limit (5 starts in 10 s would otherwise leave it dead for good).
    private static string? WatchUnit(HostPlan plan) => !plan.StepsOf<FailoverWatch>().Any() ? null :
        $"""
        [Unit]
        Description=Egress failover watcher: {plan.Host} (client of {plan.Stack})
        After={HostScript.UnitName}
        BindsTo={HostScript.UnitName}
        StartLimitIntervalSec=0

        [Service]
        ExecStart=/bin/sh {HostScript.InstalledPath} watch
        Restart=always
        RestartSec=1

        [Install]
        WantedBy=multi-user.target

        """.ReplaceLineEndings("\n");

    /// <summary>EC2 rejects user data over 16 KB (the gzip-compressed document it is sent as); say so here rather than at
    /// launch.</summary>
    private static string FitUserData(HostPlan plan, string cloudInit)
    {
        var bytes = UserDataWire.Encode(cloudInit).Length;
        return bytes < HostScript.UserDataLimit
            ? cloudInit
            : throw new ArgumentException(
                $"The cloud-init user data for '{plan.Host}' is {bytes} bytes gzip-compressed; EC2 allows {HostScript.UserDataLimit}. " +
                "Split its clients over more gateways.", nameof(plan));
    }

    private static string Unit(HostPlan plan) =>
        $"""
        [Unit]
        Description=Egress host networking: {plan.Host} ({plan.Role.ToString().ToLowerInvariant()} of {plan.Stack})
        Wants=network-online.target
        After=network-online.target

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/sh {HostScript.InstalledPath} apply
        ExecStop=/bin/sh {HostScript.InstalledPath} down

        [Install]
        WantedBy=multi-user.target

        """.ReplaceLineEndings("\n");

    /// <summary>The #cloud-config document with the script in plain text; apply sends it gzip-compressed
    /// (<see cref="UserDataWire"/>), about a third of its size.</summary>
    private static string CloudInit(HostPlan plan)
    {
        var script = ScriptRenderer.Render(plan);
        var b = new StringBuilder();
        void L(string line) => b.Append(line).Append('\n');
        L("#cloud-config");
        L($"# egress: {plan.Host} ({plan.Role.ToString().ToLowerInvariant()} of {plan.Stack}); 'sh {HostScript.InstalledPath} check' verifies it.");
        L("package_update: true");
        L("packages:");
        foreach (var package in HostScript.PackagesFor(plan))
        {
            L($"  - {package}");
        }

        L("write_files:");
        L($"  - path: {HostScript.InstalledPath}");
        L("    owner: root:root");
        L("    permissions: '0755'");
        L("    content: |");
        Indent(b, script, "      ");

        L($"  - path: {HostScript.UnitPath}");
        L("    owner: root:root");
        L("    permissions: '0644'");
        L("    content: |");
        Indent(b, Unit(plan), "      ");
        var watch = WatchUnit(plan);
        if (watch is not null)
        {
            L($"  - path: {HostScript.WatchUnitPath}");
            L("    owner: root:root");
            L("    permissions: '0644'");
            L("    content: |");
            Indent(b, watch, "      ");
        }

        L("runcmd:");
        L("  - [systemctl, daemon-reload]");
        L($"  - [systemctl, enable, --now, {HostScript.UnitName}]");
        if (watch is not null)
        {
            L($"  - [systemctl, enable, --now, {HostScript.WatchUnitName}]");
        }

        return b.ToString();
    }

    private static void Indent(StringBuilder b, string text, string prefix)
    {
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            b.Append(line.Length == 0 ? string.Empty : prefix).Append(line).Append('\n');
        }
    }
}
