using Egress.Core.Topology;
using Egress.Host.Rendering;

namespace Egress.Doctor;

/// <summary>Turns a host's <c>egress-host check</c> report into doctor checks: each invariant on its link of the path,
/// with the fix for a broken one. Invariants that fail only because another one did (every rule of a deleted nftables
/// table; the default route of a client whose gateway does not answer) are folded into that one finding.</summary>
public static class HostFindings
{
    /// <summary>The link an invariant belongs to.</summary>
    public static PathLink LinkOf(string invariant, HostRole role) => invariant switch
    {
        _ when invariant.StartsWith("tunnel.", StringComparison.Ordinal) => PathLink.Tunnel,
        _ when invariant.StartsWith("failover.gateway.", StringComparison.Ordinal) => PathLink.Tunnel,
        CheckReport.ActiveGatewayInvariant or "route.default-via-tunnel" => PathLink.Egress,

        // Where the stub sends internet names follows from the egress under it: judged with the names, after egress.
        Attribution.DnsViaGateway => PathLink.Dns,
        _ => role == HostRole.Client ? PathLink.Client : PathLink.Gateway,
    };

    /// <summary>The doctor checks of <paramref name="link"/> from one host's report. A failed invariant that follows from
    /// another (<paramref name="attribution"/>, over every host's report; by default this report's alone) is listed as
    /// skipped with its cause; the cause's finding names what follows from it.</summary>
    public static IReadOnlyList<DoctorCheck> On(PathLink link, string host, HostRole role, CheckReport report, string? bootUnit, Attribution? attribution = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        attribution ??= Attribution.Of(host, report);
        var mine = report.Invariants.Where(i => LinkOf(i.Name, role) == link).ToList();
        var checks = new List<DoctorCheck>();
        foreach (var invariant in mine)
        {
            var id = $"host.{invariant.Name}";
            if (invariant.Ok)
            {
                checks.Add(DoctorCheck.Healthy(id, link, host, Expected(invariant.Name), invariant.Detail));
                continue;
            }

            var self = new HostInvariant(host, invariant.Name);
            if (attribution.CauseOf(self) is { } cause)
            {
                var where = cause.Host == host ? cause.Invariant : cause.ToString();
                checks.Add(DoctorCheck.Skipped(id, link, host, Expected(invariant.Name), $"follows from {where} (reported there): {invariant.Detail}"));
                continue;
            }

            var (fix, by) = FixFor(invariant.Name, host, role, bootUnit);
            var seen = invariant.Name == Attribution.TunnelUp
                ? $"{host}'s end ({(role == HostRole.Gateway ? "the gateway" : "the client")}): {invariant.Detail}"
                : invariant.Detail;
            var folded = attribution.ConsequencesOf(self);
            if (folded.Count > 0)
            {
                seen += $" (and so also: {string.Join(", ", folded.Select(f => f.Host == host ? f.Invariant : f.ToString()))})";
            }

            checks.Add(DoctorCheck.Broken(id, link, host, Expected(invariant.Name), seen, fix, by));
        }

        return checks;
    }

    private static string Expected(string invariant) => invariant switch
    {
        "uplink.found" => "the interface that holds the host's private IP",
        "tunnel.up" => "the overlay tunnel up with the planned endpoints and address",
        "tunnel.mtu" => "the tunnel MTU the plan sets (the path MTU less the overlay's header)",
        "nat.table" => "nftables table ip egress present (NAT, forward filter, MSS clamp)",
        "nat.masquerade-covers-tunnel" => "masquerade of everything that arrives through a client's tunnel",
        "sysctl.ip_forward" => "net.ipv4.ip_forward=1 (the gateway forwards the clients' traffic)",
        "sysctl.rp_filter" => "rp_filter 0 on all, default, the uplink and every tunnel (replies return by the tunnel)",
        "failover.watcher" => "the failover watcher running",
        Attribution.KillSwitch => "the kill switch armed: nothing new leaves the uplink for the internet",
        Attribution.DnsViaGateway => "internet names sent to the active gateway's forwarder through the tunnel",
        CheckReport.ActiveGatewayInvariant => "egress through a gateway that answers",
        "route.default-via-tunnel" => "0.0.0.0/1 and 128.0.0.0/1 via a gateway's tunnel address",
        _ when invariant.StartsWith("failover.gateway.", StringComparison.Ordinal) => "the gateway's tunnel address answers through the tunnel",
        _ => "as egress-host apply sets it",
    };

    private static (string Fix, FixedBy By) FixFor(string invariant, string host, HostRole role, string? bootUnit)
    {
        var reapply = $"run 'egress-host apply' on {host} (idempotent: it re-creates only what is missing)";
        var boot = bootUnit switch
        {
            null => string.Empty,
            "enabled" => $"; the boot unit {HostScript.UnitName} is enabled, so a reboot applies it too",
            _ => $"; the boot unit {HostScript.UnitName} is {bootUnit}: 'systemctl enable {HostScript.UnitName}' or it is lost again at the next reboot",
        };
        return invariant switch
        {
            "nat.table" => ($"{reapply}{boot}. By hand: the table is the script's nft definition, 'egress-host check' names each rule", FixedBy.EgressHostApply),
            "sysctl.ip_forward" => ($"'sysctl -w net.ipv4.ip_forward=1', or {reapply}{boot}", FixedBy.EgressHostApply),
            "sysctl.rp_filter" => ($"{reapply}: it sets rp_filter 0 where strict (1) would drop replies that come back through the tunnel", FixedBy.EgressHostApply),
            Attribution.TunnelUp => ($"{reapply}: it brings {host}'s tunnel end up (re-creating a deleted device, its address and MTU){(role == HostRole.Gateway ? "; the clients' watchers then move egress back to it" : "; the watcher then moves egress back to the gateway")}{boot}", FixedBy.EgressHostApply),
            Attribution.DefaultRoute => ($"the failover watcher on {host} puts the halves back on its next probe round while it runs ('systemctl status {HostScript.WatchUnitName}'); else {reapply}: it adds 0.0.0.0/1 and 128.0.0.0/1 via the primary gateway's tunnel when neither exists", FixedBy.EgressHostApply),
            "tunnel.mtu" => ($"{reapply}: it sets the planned MTU; a larger one sends packets the path cannot carry (test: ping -M do -s MTU-28 to the peer's tunnel address)", FixedBy.EgressHostApply),
            "failover.watcher" => ($"'systemctl restart {HostScript.WatchUnitName}' on {host} (the lab restarts it with 'egress lab down' and 'up'); without it the client neither fails over nor fails closed", FixedBy.Manual),
            CheckReport.ActiveGatewayInvariant => ("start or heal a gateway (the watcher moves egress back when one answers), or add a standby gateway to egressVia", FixedBy.Topology),
            _ when invariant.StartsWith("failover.gateway.", StringComparison.Ordinal) =>
                ("both tunnel ends are configured, so the underlay drops the overlay: check the peering is active, both route tables route the peer VPC to it, and the security group allows the overlay protocol from the peer's /32 ('egress plan' shows what differs; 'egress apply' fixes it)", FixedBy.EgressApply),
            _ => (reapply + boot, FixedBy.EgressHostApply),
        };
    }
}
