using System.Globalization;
using System.Text;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Plan;

namespace Egress.Host.Rendering;

/// <summary>Turns a <see cref="HostPlan"/> into the one-file POSIX sh script: a data block (this host's values, each
/// quoted by <see cref="ShellWord.Quote"/>) followed by the fixed shell library under <c>Scripts/</c> (common.sh, the
/// role's file, main.sh), where each step's apply, down and check sit side by side. Nothing else is generated.</summary>
internal static class ScriptRenderer
{
    public static string Render(HostPlan plan) => DataBlock(plan) + Library(plan.Role);

    /// <summary>The library files in the order the script holds them.</summary>
    public static IReadOnlyList<string> LibraryFiles(HostRole role) =>
        ["common.sh", role == HostRole.Client ? "client.sh" : "gateway.sh", "main.sh"];

    /// <summary>The role's library as the script ships it: a marker line, then the files in order without their comment
    /// and blank lines (shellcheck directives stay). The comments explain the source; EC2's 16 KB user data has no room
    /// for them.</summary>
    public static string Library(HostRole role)
    {
        var files = LibraryFiles(role);
        var text = new StringBuilder($"# ---- library: src/Egress.Host/Scripts/{string.Join(", ", files)} (explained there and in docs/host.md)\n");
        foreach (var line in files.SelectMany(f => ReadLibraryFile(f).Split('\n')))
        {
            var code = line.TrimStart();
            if (code.Length > 0 && (!code.StartsWith('#') || code.StartsWith("# shellcheck ", StringComparison.Ordinal)))
            {
                text.Append(line).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>A library file as it is in the source tree.</summary>
    public static string ReadLibraryFile(string name)
    {
        using var stream = typeof(ScriptRenderer).Assembly.GetManifestResourceStream($"Egress.Host.Scripts.{name}")
            ?? throw new InvalidOperationException($"The host script library file Scripts/{name} is not embedded in Egress.Host.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    }

    /// <summary>The shell step (apply_X, down_X, check_X in the library) that carries out a plan step.</summary>
    public static string StepName(PlanStep step) => step switch
    {
        RequireTools => "require",
        FindUplink => "uplink",
        CreateTunnel => "tunnels",
        SetSysctl => "sysctls",
        GatewayFirewall => "firewall",
        ReplyViaUplink => "reply",
        KillSwitch => "killswitch",
        BlockIpv6 => "ipv6",
        PinRoute => "pins",
        DefaultViaTunnel => "defaults",
        FailoverWatch => "watch",
        DnsForwarder or DnsStub => "dns",
        _ => throw new NotSupportedException($"The host script library has no step for plan step {step.GetType().Name}."),
    };

    /// <summary>The host's values as shell variables and lists. A list is a function that calls "$@" once per item
    /// with the item's fields, so the library iterates it without parsing (<c>tunnels tunnel</c>).</summary>
    public static string DataBlock(HostPlan plan)
    {
        var d = new DataWriter();
        var role = plan.Role.ToString().ToLowerInvariant();
        var mode = plan.Overlay switch
        {
            OverlayMode.Ipip or OverlayMode.Gre or OverlayMode.Vxlan => plan.Overlay.ToString().ToLowerInvariant(),
            _ => throw new ArgumentOutOfRangeException(nameof(plan), plan.Overlay, "resolve overlay mode auto before rendering"),
        };
        d.Line("#!/bin/sh");
        d.Line($"# egress-host: {plan.Host}, {role} of stack {plan.Stack}. Rendered by egress from the topology: edit that, not this.");
        d.Line($"# Usage: egress-host apply|check|down|status{(plan.Role == HostRole.Client ? "|watch|decide" : string.Empty)} (docs/host.md)");
        d.Line("# Environment: EGRESS_NETNS_ONLY=1 (a lab namespace), EGRESS_RUN_DIR (default /run/egress), EGRESS_LOCK_WAIT (seconds, default 30).");
        d.Line($"# Overlay {mode}: tunnel MTU {plan.TunnelMtu}, TCP MSS {plan.TcpMss}. Each step explained: docs/host.md.");
        d.Line("# ---- data block: this host's values (lists call \"$@\" once per item); the library after it is fixed shell.");
        d.Line("set -u");
        d.Var("HOST_NAME", plan.Host);
        d.Var("ROLE", role);
        d.Var("OVERLAY", mode);
        d.Var("VXLAN_PORT", CreateTunnel.VxlanPort);
        d.Var("PRIVATE_IP", plan.PrivateIp);
        d.Var("STEPS", string.Join(' ', plan.Steps.Select(StepName).Distinct()));
        d.Var("TOOLS", string.Join(' ', plan.StepsOf<RequireTools>().SelectMany(r => r.Programs)));
        var tunnels = plan.StepsOf<CreateTunnel>().ToList();
        d.Var("NFT_PEERS", string.Join(", ", tunnels.Select(t => t.Remote).Distinct()));
        d.List("tunnels", tunnels.Select(t => Fields(t.Name, t.Local, t.Remote, t.Key, Invariant($"{t.Address}/{CreateTunnel.PrefixLength}"), t.Mtu, t.PeerHost)));
        // Grouped by invariant (first appearance first): check reports each invariant once.
        d.List("sysctls", plan.StepsOf<SetSysctl>().GroupBy(s => s.Invariant).SelectMany(g => g).Select(s =>
            Fields(s.Invariant, s.Key.Replace('.', '/'), s.Value, s.Scope == SysctlScope.Machine ? "machine" : "ns", s.Feature ?? string.Empty)));
        foreach (var fw in plan.StepsOf<GatewayFirewall>())
        {
            d.List("clients", fw.Clients.Select(c => Fields(c.Tunnel, c.Source, c.Client)));
        }

        if (plan.Role == HostRole.Client)
        {
            d.Var("VPC_ROUTER", plan.VpcRouter);
        }

        foreach (var r in plan.StepsOf<ReplyViaUplink>())
        {
            d.Var("MARK", Invariant($"0x{r.Mark:x}"));
            d.Var("MGMT_TABLE", r.Table);
            d.Var("MGMT_PRIORITY", r.Priority);
        }

        foreach (var k in plan.StepsOf<KillSwitch>())
        {
            d.Var("KS_TABLE", k.Table);
            d.Var("KS_PRIORITY", k.Priority);
            d.Var("REALM", k.Realm);
            d.Var("NFT_TUNNEL_ADDRESSES", string.Join(", ", tunnels.Select(t => t.Address)));
        }

        foreach (var b in plan.StepsOf<BlockIpv6>())
        {
            d.Var("V6_ALLOW", string.Join(", ", b.Allowed.Select(a => a.Prefix)));
        }

        if (plan.StepsOf<PinRoute>().Any())
        {
            d.List("pins", plan.StepsOf<PinRoute>().GroupBy(p => p.Invariant).SelectMany(g => g).Select(p =>
                Fields(p.Invariant, p.Destination, p.Destination.At(p.Destination.Size > 1 ? 1 : 0))));
        }

        foreach (var t in plan.StepsOf<DefaultViaTunnel>())
        {
            d.Var("DEFAULT_DEV", t.Tunnel);
            d.Var("DEFAULT_VIA", t.Via);
            d.Var("DEFAULT_GATEWAY", t.Gateway);
        }

        foreach (var w in plan.StepsOf<FailoverWatch>())
        {
            var f = w.Settings;
            d.List("gateways", w.Gateways.Select(g => Fields(g.Name, g.Tunnel, g.Via)));
            d.Var("POLICY", f.Policy == FailurePolicy.FailOpen ? "fail-open" : "fail-closed");
            d.Var("FAILBACK", f.Failback ? 1 : 0);
            d.Var("HOLD_MS", f.HoldDownMs);
            d.Var("DOWN_AFTER", f.DownAfter);
            d.Var("UP_AFTER", f.UpAfter);
            d.Var("PROBE_MS", f.ProbeIntervalMs);
            d.Var("PROBE_S", f.ProbeIntervalMs / 1000m);
        }

        foreach (var f in plan.StepsOf<DnsForwarder>())
        {
            d.Var("DNS_LISTEN", string.Join(' ', f.Listen));
            d.Var("DNS_UPSTREAM", f.Upstream);
        }

        foreach (var s in plan.StepsOf<DnsStub>())
        {
            d.Var("DNS_VPC", s.VpcResolver);
            d.Var("DNS_LOCAL", string.Join(' ', s.LocalDomains));
        }

        return d.ToString();
    }

    private static object[] Fields(params object[] fields) => fields;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>LF-only data block; every value goes through <see cref="ShellWord.Quote"/>, formatted invariantly.</summary>
    private sealed class DataWriter
    {
        private readonly StringBuilder _text = new();

        public void Line(string line) => _text.Append(line).Append('\n');

        public void Var(string name, object value) => Line($"{name}={Word(value)}");

        public void List(string name, IEnumerable<object[]> items)
        {
            Line($"{name}() {{");
            foreach (var item in items)
            {
                Line($"  \"$@\" {string.Join(' ', item.Select(Word))}");
            }

            Line("}");
        }

        public override string ToString() => _text.ToString();

        private static string Word(object value) => ShellWord.Quote(value switch
        {
            decimal m => m.ToString("0.###", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? string.Empty,
        });
    }
}
