namespace Egress.Core.Topology;

/// <summary>One inbound rule of a host's security group. <see cref="Protocol"/> is "tcp", "udp" or an IP protocol number
/// ("4" IP-in-IP, "47" GRE); for a protocol number AWS wants FromPort = ToPort = -1.</summary>
public sealed record IngressRule(string Protocol, int FromPort, int ToPort, string Cidr);

/// <summary>What each host's security group lets in (outbound is all, replies always pass: AWS security groups are
/// stateful). Pure; the AWS planner builds the real groups from it and the lab emulates them at each host's VPC port,
/// so the lab refuses what AWS would.</summary>
public static class SecurityGroupIngress
{
    /// <summary>SSH from <c>access.ssh</c> when set, and the overlay from each tunnel peer's private address (/32: security
    /// groups cannot reference a group across inter-region peering).</summary>
    public static IReadOnlyList<IngressRule> For(TopologyModel topology, Host host)
    {
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(host);
        var rules = new List<IngressRule>();
        if (topology.Access.Ssh is { } ssh)
        {
            rules.Add(new IngressRule("tcp", 22, 22, ssh.ToString()));
        }

        foreach (var pair in TunnelPairs.ForHost(topology, host))
        {
            var peer = pair.Client == host ? pair.Gateway : pair.Client;
            var rule = TunnelRule(topology.Overlay.Mode, $"{peer.PrivateIp}/32");
            if (!rules.Contains(rule))
            {
                rules.Add(rule);
            }
        }

        return rules;
    }

    /// <summary>The overlay's protocol: IP-in-IP (4) for ipip and for auto (Ubuntu's kernel has ipip), GRE (47), VXLAN (UDP 4789).</summary>
    public static IngressRule TunnelRule(OverlayMode mode, string peerCidr) => mode switch
    {
        OverlayMode.Gre => new IngressRule("47", -1, -1, peerCidr),
        OverlayMode.Vxlan => new IngressRule("udp", 4789, 4789, peerCidr),
        _ => new IngressRule("4", -1, -1, peerCidr),
    };
}
