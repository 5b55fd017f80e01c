using Egress.Host.Rendering;

namespace Egress.Doctor;

/// <summary>One host's invariant: <c>tunnel.up</c> on <c>tokyo-nat</c>.</summary>
public readonly record struct HostInvariant(string Host, string Invariant)
{
    public override string ToString() => $"{Invariant} on {Host}";
}

/// <summary>Which failed invariants are consequences of another failed one, across every host of the walk: one fault,
/// one finding. The facts a client's check derives (its active gateway, the default halves, the kill switch's route
/// lookup, where the DNS stub sends internet names) all depend on the links under them: a tunnel end that is down on
/// either host, a gateway that does not answer through its tunnel, the default halves that are gone. When an upstream
/// link is broken, the derived facts that fail with it are folded into its finding instead of being reported as
/// their own (docs/doctor.md, "One fault, one finding").</summary>
public sealed class Attribution
{
    public const string TunnelUp = "tunnel.up";
    public const string TunnelMtu = "tunnel.mtu";
    public const string NatTable = "nat.table";
    public const string DefaultRoute = "route.default-via-tunnel";
    public const string KillSwitch = "killswitch.uplink";
    public const string DnsViaGateway = "dns.via-gateway";
    public const string GatewayPrefix = "failover.gateway.";

    /// <summary>No folding: every failed invariant stands alone.</summary>
    public static readonly Attribution None = new(new Dictionary<HostInvariant, HostInvariant>());

    private readonly Dictionary<HostInvariant, HostInvariant> _causes;

    /// <summary>Each invariant's place in its host's report: consequences are listed in the order the check prints them.</summary>
    private readonly Dictionary<HostInvariant, int> _order;

    private Attribution(Dictionary<HostInvariant, HostInvariant> causes, Dictionary<HostInvariant, int>? order = null)
    {
        _causes = causes;
        _order = order ?? [];
    }

    /// <summary>The attribution of one host's report alone (no other host's evidence).</summary>
    public static Attribution Of(string host, CheckReport report) => Of(new Dictionary<string, CheckReport> { [host] = report });

    /// <summary>The attribution over every host's report (host name → its check report).</summary>
    public static Attribution Of(IReadOnlyDictionary<string, CheckReport> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        var causes = new Dictionary<HostInvariant, HostInvariant>();
        var order = new Dictionary<HostInvariant, int>();
        bool Failed(string host, string invariant) =>
            reports.TryGetValue(host, out var r) && r.Invariants.Any(i => i.Name == invariant && !i.Ok);

        foreach (var (host, report) in reports)
        {
            var failed = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var invariant in report.Invariants.Where(i => !i.Ok))
            {
                failed.TryAdd(invariant.Name, invariant.Detail);
                order.TryAdd(new HostInvariant(host, invariant.Name), order.Count);
            }

            void Because(string invariant, HostInvariant cause)
            {
                if (failed.ContainsKey(invariant) && cause != new HostInvariant(host, invariant))
                {
                    causes.TryAdd(new HostInvariant(host, invariant), cause);
                }
            }

            // The gateway's table ip egress holds its NAT, forward and overlay rules: without it, all of them fail.
            if (failed.ContainsKey(NatTable))
            {
                foreach (var name in failed.Keys.Where(n => n != NatTable && (n.StartsWith("nat.", StringComparison.Ordinal)
                    || n.StartsWith("forward.", StringComparison.Ordinal) || n.StartsWith("overlay.", StringComparison.Ordinal))))
                {
                    Because(name, new HostInvariant(host, NatTable));
                }
            }

            // The tunnel's MTU is checked on a tunnel that exists.
            if (failed.ContainsKey(TunnelUp))
            {
                Because(TunnelMtu, new HostInvariant(host, TunnelUp));
            }

            // A gateway that does not answer through the tunnel: this end of it down, or the gateway's end.
            var gateways = report.Invariants.Where(i => i.Name.StartsWith(GatewayPrefix, StringComparison.Ordinal)).ToList();
            foreach (var gateway in gateways.Where(g => !g.Ok))
            {
                var peer = gateway.Name[GatewayPrefix.Length..];
                if (failed.ContainsKey(TunnelUp))
                {
                    Because(gateway.Name, new HostInvariant(host, TunnelUp));
                }
                else if (Failed(peer, TunnelUp))
                {
                    Because(gateway.Name, new HostInvariant(peer, TunnelUp));
                }
            }

            // The client's derived egress facts. With no gateway answering, the watcher did what the policy says (the
            // halves via the uplink with the kill switch's realm, or removed in fail-open; DNS refused or local): they
            // follow from the first gateway that does not answer. With a gateway answering and the halves gone, they
            // follow from the missing halves. Otherwise the halves follow from the active gateway, as before.
            HostInvariant? root = null;
            var halvesGone = failed.TryGetValue(DefaultRoute, out var route) && route.Contains("0.0.0.0/1: no route", StringComparison.Ordinal);
            if (gateways.Count > 0 && gateways.All(g => !g.Ok))
            {
                root = new HostInvariant(host, gateways[0].Name);
            }
            else if (halvesGone)
            {
                root = new HostInvariant(host, DefaultRoute);
            }
            else if (failed.ContainsKey(CheckReport.ActiveGatewayInvariant))
            {
                root = new HostInvariant(host, CheckReport.ActiveGatewayInvariant);
            }

            if (root is { } cause)
            {
                Because(CheckReport.ActiveGatewayInvariant, cause);
                Because(DefaultRoute, cause);
                Because(DnsViaGateway, cause);

                // The kill switch refusing while no gateway answers is fail-closed working: the lookup for an internet
                // address by the uplink meets the halves' realm. Its rules missing is a fault of its own.
                if (failed.TryGetValue(KillSwitch, out var killSwitch) && !killSwitch.Contains("no rule:", StringComparison.Ordinal)
                    && killSwitch.Contains("realm", StringComparison.Ordinal) && route is not null && route.Contains("realm", StringComparison.Ordinal))
                {
                    Because(KillSwitch, cause);
                }
            }
        }

        return new Attribution(causes, order);
    }

    /// <summary>The failed invariant <paramref name="invariant"/> ultimately follows from, or null when it stands alone.</summary>
    public HostInvariant? CauseOf(HostInvariant invariant)
    {
        if (!_causes.TryGetValue(invariant, out var cause))
        {
            return null;
        }

        // Follow the chain to the root (a gateway's tunnel end → the client's probe of it → the derived facts).
        var seen = new HashSet<HostInvariant> { invariant };
        while (_causes.TryGetValue(cause, out var next) && seen.Add(cause))
        {
            cause = next;
        }

        return cause;
    }

    /// <summary>Every failed invariant that follows from <paramref name="cause"/>, its own host's first.</summary>
    public IReadOnlyList<HostInvariant> ConsequencesOf(HostInvariant cause) =>
        [.. _causes.Keys.Where(k => CauseOf(k) == cause).OrderBy(k => k.Host == cause.Host ? 0 : 1).ThenBy(k => k.Host, StringComparer.Ordinal).ThenBy(k => _order.GetValueOrDefault(k))];
}
