using Egress.Core.Topology;
using Egress.Processes;

namespace Egress.Lab;

/// <summary>What this kernel can do for the lab, probed in a scratch namespace (never in the root namespace).</summary>
public sealed record KernelFeatures(bool Ipip, bool Gre, bool Netem)
{
    /// <summary>Probes by creating an ipip link, a gre link and a netem qdisc in namespace egl-&lt;id&gt;-probe.</summary>
    public static async Task<KernelFeatures> ProbeAsync(ICommandRunner runner, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        var ns = LabNames.ProbeNamespace(id);
        const string script = """
            ns=$1
            ip netns del "$ns" 2>/dev/null
            ip netns add "$ns" || exit 3
            ipip=0; gre=0; netem=0
            ip -n "$ns" link add eglipip0 type ipip local 192.0.2.1 remote 192.0.2.2 2>/dev/null && ipip=1
            ip -n "$ns" link add eglgre0 type gre local 192.0.2.1 remote 192.0.2.2 2>/dev/null && gre=1
            ip -n "$ns" link set lo up
            tc -n "$ns" qdisc add dev lo root netem delay 1ms 2>/dev/null && netem=1
            ip netns del "$ns"
            echo "ipip=$ipip gre=$gre netem=$netem"
            """;
        var result = (await runner.RunAsync(CommandSpec.Of("sh", "-c", script, "sh", ns), cancellationToken)).EnsureSuccess(CommandSpec.Of("sh", "-c", "probe kernel features in " + ns));
        var fields = result.StandardOutput.Trim().Split(' ').Select(f => f.Split('=')).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1] == "1");
        return new KernelFeatures(fields.GetValueOrDefault("ipip"), fields.GetValueOrDefault("gre"), fields.GetValueOrDefault("netem"));
    }

    /// <summary>The overlay the lab uses for <paramref name="requested"/>: ipip/gre/auto fall back to VXLAN
    /// when the kernel cannot make the link; the note says which and why.</summary>
    public (OverlayMode Mode, string Note) ResolveOverlay(OverlayMode requested) => requested switch
    {
        OverlayMode.Vxlan => (OverlayMode.Vxlan, "vxlan (as the topology says)"),
        OverlayMode.Gre when Gre => (OverlayMode.Gre, "gre (as the topology says)"),
        OverlayMode.Gre => (OverlayMode.Vxlan, "vxlan (the topology says gre; this kernel cannot create a gre link)"),
        OverlayMode.Ipip when Ipip => (OverlayMode.Ipip, "ipip (as the topology says)"),
        OverlayMode.Ipip => (OverlayMode.Vxlan, "vxlan (the topology says ipip; this kernel cannot create an ipip link)"),
        _ when Ipip => (OverlayMode.Ipip, "ipip (overlay auto: the kernel has ipip)"),
        _ => (OverlayMode.Vxlan, "vxlan (overlay auto: this kernel cannot create an ipip link)"),
    };

    public string LatencyNote(bool topologyHasLatency, bool vms = false) =>
        !topologyHasLatency ? "latency emulation: off (the topology sets no lab.latency)"
        : vms ? "latency emulation: on (tc netem inside each VM, by destination: Debian's kernel has it)"
        : Netem ? "latency emulation: on (tc netem)"
        : "latency emulation: off (kernel has no netem)";
}
