using System.Globalization;

namespace Egress.Tests.Shared;

/// <summary>Overlay packets built byte by byte and sent from a raw socket (python3, no scapy), with any outer and inner
/// source: what an attacker who forges the client's addresses sends (issue 24, item 3). Run the command in the sender's
/// network namespace (it needs root: IP_HDRINCL).</summary>
internal static class ForgedOverlay
{
    // argv: mode (vxlan|gre|ipip) outer_src outer_dst key inner_src inner_dst udp_dport inner_dst_mac count
    // The inner packet is UDP with payload "egress-forged"; VXLAN carries it in Ethernet to inner_dst_mac; GRE has the key
    // flag (as the host scripts' gre tunnels); ipip has no id.
    private const string Script = """
        import socket, struct, sys
        mode, osrc, odst, key, isrc, idst, dport, mac, count = sys.argv[1:10]
        key, dport, count = int(key), int(dport), int(count)
        def csum(b):
            if len(b) % 2: b += b"\0"
            s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
            while s >> 16: s = (s & 0xffff) + (s >> 16)
            return ~s & 0xffff
        def ip(src, dst, proto, payload):
            h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x4242, 0, 64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
            return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
        data = b"egress-forged"
        inner = ip(isrc, idst, 17, struct.pack("!HHHH", 40000, dport, 8 + len(data), 0) + data)
        if mode == "vxlan":
            frame = bytes.fromhex(mac.replace(":", "")) + bytes.fromhex("02eeeeeeee02") + b"\x08\x00" + inner
            vx = struct.pack("!II", 0x08000000, key << 8) + frame
            proto, payload = 17, struct.pack("!HHHH", 40001, 4789, 8 + len(vx), 0) + vx
        elif mode == "gre":
            proto, payload = 47, struct.pack("!HHI", 0x2000, 0x0800, key) + inner
        else:
            proto, payload = 4, inner
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        for _ in range(count):
            s.sendto(ip(osrc, odst, proto, payload), (odst, 0))
        print("sent", count, flush=True)
        """;

    /// <summary>The command (python3 -c ...) that sends <paramref name="count"/> forged packets.</summary>
    public static string[] Command(string mode, string outerSource, string outerDestination, int key, string innerSource, string innerDestination, int udpPort, string innerMac = "ff:ff:ff:ff:ff:ff", int count = 3) =>
    [
        "python3", "-c", Script, mode, outerSource, outerDestination, key.ToString(CultureInfo.InvariantCulture),
        innerSource, innerDestination, udpPort.ToString(CultureInfo.InvariantCulture), innerMac, count.ToString(CultureInfo.InvariantCulture),
    ];
}
