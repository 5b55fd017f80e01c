namespace Egress.Lab.RootTests;

/// <summary>Asks a resolver directly, past any stub: `python3 -c Script NAME SERVER udp|tcp COUNT` sends COUNT A queries
/// for NAME to SERVER:53 (over TCP on one connection) and prints "MS ADDRESS" per answer (its only record), so a test can
/// tell how long a (delayed) VPC resolver took. Runs in a lab namespace or, through `lab exec`, in a VM.</summary>
internal static class DnsQueries
{
    public const string Script = """
        import socket, struct, sys, time
        name, server, transport, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
        if transport == "tcp":
            s = socket.create_connection((server, 53), 5)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(10)
        def read(n):
            d = b""
            while len(d) < n:
                c = s.recv(n - len(d))
                if not c:
                    raise SystemExit("connection closed")
                d += c
            return d
        for i in range(1, count + 1):
            q = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
            t = time.monotonic()
            if transport == "tcp":
                s.sendall(struct.pack(">H", len(q)) + q)
                d = read(struct.unpack(">H", read(2))[0])
            else:
                s.sendto(q, (server, 53))
                d = s.recv(512)
            print(int((time.monotonic() - t) * 1000), socket.inet_ntoa(d[-4:]), flush=True)
        """;
}
