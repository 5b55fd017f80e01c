#!/usr/bin/env python3
# The DNS outage probe of the lab (bench/lab-dns.sh, the DNS failover root test): asks the host's DNS stub
# (127.0.0.1:53) for a name never asked before, p<pid>x<n>.SUFFIX (every lab resolver answers the geo name's subdomains,
# so no cache anywhere hides an outage), every 20 ms, giving each query 100 ms. One line per query, flushed:
# "WALL_MS ok|timeout|rcodeN". Run it in the host's namespace; it runs until killed.
#   python3 -u eng/lab/dns-probe.py SUFFIX
import os, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.1)
i = 0
while True:
    i += 1
    qid = i & 0xffff
    name = "p%dx%d.%s" % (os.getpid(), i, sys.argv[1])
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
    s.sendto(q, ("127.0.0.1", 53))
    r = "timeout"
    deadline = time.monotonic() + 0.1
    while time.monotonic() < deadline:
        try:
            d, _ = s.recvfrom(4096)
        except socket.timeout:
            break
        if len(d) >= 12 and struct.unpack(">H", d[:2])[0] == qid:
            r = "ok" if d[3] & 15 == 0 and struct.unpack(">H", d[6:8])[0] > 0 else "rcode%d" % (d[3] & 15)
            break
    print(int(time.time() * 1000), r, flush=True)
    time.sleep(0.02)
