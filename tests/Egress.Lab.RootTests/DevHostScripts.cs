using System.Text;
using Egress.Core.Topology;

namespace Egress.Lab.RootTests;

/// <summary>TEST-ONLY stand-in for the host renderer (issue 3, built on another branch) so the lab's own tests
/// can run before it lands: a minimal VXLAN client/gateway with apply/check/down. Never shipped.</summary>
internal sealed class DevHostScripts : IHostScriptRenderer
{
    public string Render(TopologyModel topology, string hostName)
    {
        var host = topology.GetHost(hostName);
        var pairs = TunnelPairs.ForHost(topology, host);
        var mtu = topology.Overlay.TunnelMtu;
        var s = new StringBuilder();
        s.Append("#!/bin/sh\nset -u\n");
        s.Append($"PRIV={host.PrivateIp}\n");
        s.Append("dev=$(ip -o -4 addr show | awk -v ip=\"$PRIV\" '{split($4,a,\"/\"); if (a[1]==ip) {print $2; exit}}')\n");
        s.Append("router=$(ip -4 route show default | awk '/^default/ && /dev '\"$dev\"'/ {print $3; exit}')\n");
        s.Append("[ -n \"$router\" ] || router=$(ip -4 route show table 100 default | awk '{print $3; exit}')\n");
        s.Append("apply() {\n set -e\n sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0\n");
        foreach (var p in pairs)
        {
            var client = p.Client == host;
            var remote = client ? p.Gateway.PrivateIp : p.Client.PrivateIp;
            var local = client ? p.ClientAddress : p.GatewayAddress;
            s.Append($" ip link show tun{p.Index} >/dev/null 2>&1 || ip link add tun{p.Index} type vxlan id {p.Key} remote {remote} local $PRIV dstport 4789 dev \"$dev\"\n");
            s.Append($" ip link set tun{p.Index} mtu {mtu} up\n ip addr replace {local}/30 dev tun{p.Index}\n");
            s.Append($" ip route replace {remote}/32 via \"$router\" dev \"$dev\"\n");
        }

        if (host.Role == HostRole.Client)
        {
            var p = pairs[0];
            foreach (var r in topology.Regions)
            {
                s.Append($" ip route replace {r.Vpc} via \"$router\" dev \"$dev\"\n");
            }

            s.Append(" ip route replace 169.254.169.254/32 via \"$router\" dev \"$dev\"\n");
            s.Append($" ip route replace 0.0.0.0/1 via {p.GatewayAddress} dev tun{p.Index}\n ip route replace 128.0.0.0/1 via {p.GatewayAddress} dev tun{p.Index}\n");
            s.Append(" ip route replace default via \"$router\" dev \"$dev\" table 100\n ip rule show | grep -q 'fwmark 0x1 lookup 100' || ip rule add fwmark 0x1 lookup 100\n");
            s.Append(" nft -f - <<EOF\ntable ip egress\ndelete table ip egress\ntable ip egress {\n chain pre {\n  type filter hook prerouting priority mangle; policy accept;\n  iifname \"$dev\" ct state new ct mark set 0x1\n }\n chain out {\n  type route hook output priority mangle; policy accept;\n  ct mark 0x1 meta mark set ct mark\n }\n}\nEOF\n");
        }
        else
        {
            var sources = string.Join(", ", pairs.Select(p => p.Prefix.ToString()).Concat(pairs.Select(p => topology.RegionOf(p.Client).Vpc.ToString()).Distinct()));
            s.Append(" sysctl -q -w net.ipv4.ip_forward=1\n");
            s.Append($" nft -f - <<EOF\ntable ip egress\ndelete table ip egress\ntable ip egress {{\n chain postrouting {{\n  type nat hook postrouting priority srcnat; policy accept;\n  oifname \"$dev\" ip saddr {{ {sources} }} masquerade\n }}\n chain forward {{\n  type filter hook forward priority filter; policy drop;\n  tcp flags syn tcp option maxseg size set rt mtu\n  ct state established,related accept\n  iifname \"tun*\" oifname \"$dev\" accept\n  counter drop\n }}\n}}\nEOF\n");
        }

        s.Append("}\n");
        s.Append("check() {\n ok=true; inv=''\n add() { [ \"$2\" = true ] || ok=false; inv=\"$inv${inv:+,}{\\\"name\\\":\\\"$1\\\",\\\"ok\\\":$2,\\\"detail\\\":\\\"\\\"}\"; }\n");
        foreach (var p in pairs)
        {
            s.Append($" if ip link show tun{p.Index} 2>/dev/null | grep -q 'state UP\\|UNKNOWN'; then add tunnel.up true; else add tunnel.up false; fi\n");
        }

        s.Append(host.Role == HostRole.Client
            ? " if ip route show 0.0.0.0/1 | grep -q tun; then add route.default-via-tunnel true; else add route.default-via-tunnel false; fi\n"
            : " if nft list table ip egress 2>/dev/null | grep -q masquerade; then add nat.masquerade-covers-tunnel true; else add nat.masquerade-covers-tunnel false; fi\n");
        s.Append($" printf '{{\"host\":\"{hostName}\",\"ok\":%s,\"invariants\":[%s],\"warnings\":[]}}\\n' \"$ok\" \"$inv\"\n [ \"$ok\" = true ]\n}}\n");
        s.Append("down() {\n nft delete table ip egress 2>/dev/null\n ip route del 0.0.0.0/1 2>/dev/null; ip route del 128.0.0.0/1 2>/dev/null\n");
        foreach (var p in pairs)
        {
            s.Append($" ip link del tun{p.Index} 2>/dev/null\n");
        }

        s.Append(" true\n}\ncase \"${1:-}\" in apply) apply;; check) check;; down) down;; status) check;; *) echo \"usage: $0 apply|check|down|status\" >&2; exit 2;; esac\n");
        return s.ToString();
    }
}
