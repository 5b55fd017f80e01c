using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Rendering;
using Egress.Tests.Shared;

namespace Egress.Host.RootTests;

/// <summary>The seed's client and gateway in network namespaces: client eth0 and gateway eth0 on a router namespace
/// that holds both VPC routers (subnet base + 1) and an internet side (203.0.113.1/24); an internet namespace
/// (203.0.113.10) routes back only to the gateway's subnet, and the router does not NAT, so traffic from the client
/// reaches the internet only if the gateway masquerades it. Nothing is linked to the root namespace.</summary>
internal sealed class NetnsWorld : IAsyncDisposable
{
    public const string InternetAddress = "203.0.113.10";

    public const string RouterInternetAddress = "203.0.113.1";

    public const int ListenerPort = 8080;

    // A one-connection-at-a-time HTTP/1.0 server that answers with the peer's address; no DNS, no files.
    private const string EchoServer = """
        import socket, sys
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((sys.argv[1], int(sys.argv[2])))
        s.listen(8)
        print("ready", flush=True)
        while True:
            c, a = s.accept()
            c.settimeout(5)
            try:
                c.recv(4096)
                b = a[0].encode()
                c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
            except OSError:
                pass
            c.close()
        """;

    private readonly List<Process> _listeners = [];
    private readonly List<string> _namespaces = [];

    private NetnsWorld(TopologyModel topology, string prefix)
    {
        Topology = topology;
        Prefix = prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        Directory = System.IO.Directory.CreateTempSubdirectory($"{Prefix}-").FullName;
        ClientHost = topology.Hosts.First(h => h.Role == HostRole.Client);
        GatewayHosts = [.. ClientHost.EgressVia.Select(g => topology.FindHost(g)!)];
        GatewayHost = GatewayHosts[0];
    }

    /// <summary>The client's gateways in order; the first is <see cref="GatewayHost"/> in namespace <see cref="Gateway"/>,
    /// the others in <c>PREFIX-gw2</c>, <c>PREFIX-gw3</c>, ...</summary>
    public IReadOnlyList<Core.Topology.Host> GatewayHosts { get; }

    public TopologyModel Topology { get; }

    public string Prefix { get; }

    /// <summary>Scripts and the scripts' run directory (EGRESS_RUN_DIR) live here, removed at the end.</summary>
    public string Directory { get; }

    public Core.Topology.Host ClientHost { get; }

    public Core.Topology.Host GatewayHost { get; }

    public string Client => $"{Prefix}-cl";

    public string Gateway => $"{Prefix}-gw";

    public string Router => $"{Prefix}-rt";

    public string Internet => $"{Prefix}-in";

    /// <param name="prefix">Namespace name prefix of the test suite (a random id is appended).</param>
    public static async Task<NetnsWorld> CreateAsync(TopologyModel topology, string prefix = "eh")
    {
        Prerequisites.RequireRoot();
        Prerequisites.RequireProgram("ip", "iproute2");
        Prerequisites.RequireProgram("nft", "nftables");
        Prerequisites.RequireProgram("curl", "curl");
        Prerequisites.RequireProgram("python3", "python3");
        var world = new NetnsWorld(topology, prefix);
        try
        {
            await world.BuildAsync();
            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    private async Task BuildAsync()
    {
        var gatewayNamespaces = GatewayHosts.Select(NamespaceOf).ToList();
        foreach (var ns in new[] { Client, Router, Internet }.Concat(gatewayNamespaces))
        {
            await Ip("netns", "add", ns);
            _namespaces.Add(ns);
            await Ip("-n", ns, "link", "set", "lo", "up");
            // IPv4 only: IPv6 link-local addresses appear late (DAD) and would make dumps taken a moment apart differ.
            await Exec(ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6");
        }

        var clientSubnet = Topology.SubnetOf(ClientHost);
        var hosts = new List<(string Ns, Core.Topology.Host Host, Subnet Subnet, string RouterLink)> { (Client, ClientHost, clientSubnet, "vpca") };
        for (var i = 0; i < GatewayHosts.Count; i++)
        {
            hosts.Add((gatewayNamespaces[i], GatewayHosts[i], Topology.SubnetOf(GatewayHosts[i]), $"vpc{(char)('b' + i)}"));
        }

        foreach (var (ns, _, subnet, link) in hosts)
        {
            await Ip("link", "add", link, "netns", Router, "type", "veth", "peer", "name", "eth0", "netns", ns);
            await Ip("-n", Router, "addr", "add", $"{subnet.Router}/{subnet.Cidr.PrefixLength}", "dev", link);
            await Ip("-n", Router, "link", "set", link, "up");
        }

        await Ip("link", "add", "wan0", "netns", Router, "type", "veth", "peer", "name", "eth0", "netns", Internet);
        await Ip("-n", Router, "addr", "add", $"{RouterInternetAddress}/24", "dev", "wan0");
        await Ip("-n", Router, "link", "set", "wan0", "up");
        await Exec(Router, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward");
        foreach (var (ns, host, subnet, _) in hosts)
        {
            await Ip("-n", ns, "addr", "add", $"{host.PrivateIp}/{subnet.Cidr.PrefixLength}", "dev", "eth0");
            await Ip("-n", ns, "link", "set", "eth0", "up");
            await Ip("-n", ns, "route", "add", "default", "via", subnet.Router.ToString());
        }

        await Ip("-n", Internet, "addr", "add", $"{InternetAddress}/24", "dev", "eth0");
        await Ip("-n", Internet, "link", "set", "eth0", "up");
        foreach (var subnet in GatewayHosts.Select(g => Topology.SubnetOf(g).Cidr).Distinct())
        {
            await Ip("-n", Internet, "route", "add", subnet.ToString(), "via", RouterInternetAddress);
        }

        await WaitForCarrierAsync();
        OverlaySupported = await ProbeOverlayAsync(Topology.Overlay.Mode);
    }

    /// <summary>Whether the kernel can create the topology's tunnel type. Probing loads the module first, so its
    /// fallback devices (tunl0, gre0, ...) already exist in every namespace before a test takes a dump.</summary>
    public bool OverlaySupported { get; private set; }

    private async Task<bool> ProbeOverlayAsync(OverlayMode mode)
    {
        string[] type = mode switch
        {
            OverlayMode.Ipip => ["type", "ipip", "remote", "192.0.2.9"],
            OverlayMode.Gre => ["type", "gre", "remote", "192.0.2.9", "key", "9"],
            OverlayMode.Vxlan => ["type", "vxlan", "id", "9", "remote", "192.0.2.9", "dstport", "4789"],
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "a concrete overlay mode"),
        };
        var probe = await Exec(Router, ["ip", "link", "add", "ehprobe0", .. type]);
        if (probe.Succeeded)
        {
            await ExecOk(Router, "ip", "link", "del", "ehprobe0");
        }

        return probe.Succeeded;
    }

    /// <summary>veth carrier comes up asynchronously; dumps are compared only once every veth end has it.
    /// (Tunnel modules' fallback devices such as tunl0 stay down: only the links made here are waited for.)</summary>
    private async Task WaitForCarrierAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var links = new List<(string Ns, string Link)> { (Client, "eth0"), (Internet, "eth0"), (Router, "vpca"), (Router, "wan0") };
        links.AddRange(GatewayHosts.SelectMany(g => new[] { (NamespaceOf(g), "eth0"), (Router, RouterLinkOf(g.Name)) }));
        foreach (var (ns, link) in links)
        {
            while (true)
            {
                var state = (await ExecOk(ns, "ip", "-o", "link", "show", "dev", link)).StandardOutput;
                if (state.Contains("LOWER_UP", StringComparison.Ordinal) && !state.Contains("NO-CARRIER", StringComparison.Ordinal) && state.Contains("state UP", StringComparison.Ordinal))
                {
                    break;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"{link} in {ns} did not come up: {state}");
                }

                await Task.Delay(50);
            }
        }
    }

    /// <summary>Writes the rendered script of <paramref name="host"/> and returns its path.</summary>
    public string WriteScript(string host)
    {
        var path = Path.Combine(Directory, $"{host}.sh");
        File.WriteAllText(path, HostRenderer.Render(Topology, host, RenderFormat.Script));
        return path;
    }

    public string NamespaceOf(string host) =>
        host == ClientHost.Name ? Client
        : GatewayHosts.ToList().FindIndex(g => g.Name == host) is var i and >= 0 ? (i == 0 ? Gateway : $"{Gateway}{i + 1}")
        : throw new ArgumentException(host);

    private string NamespaceOf(Core.Topology.Host host) => NamespaceOf(host.Name);

    /// <summary>The router's veth to a gateway: vpcb for the first, vpcc for the second, ...</summary>
    public string RouterLinkOf(string gateway) => $"vpc{(char)('b' + GatewayHosts.ToList().FindIndex(g => g.Name == gateway))}";

    /// <summary>Runs the host's script in its namespace the way the lab does (EGRESS_NETNS_ONLY=1).</summary>
    public Task<CommandResult> ScriptAsync(string host, string verb, IReadOnlyDictionary<string, string>? environment = null)
    {
        var script = Path.Combine(Directory, $"{host}.sh");
        if (!File.Exists(script))
        {
            WriteScript(host);
        }

        var env = new Dictionary<string, string>
        {
            ["EGRESS_NETNS_ONLY"] = "1",
            ["EGRESS_RUN_DIR"] = Path.Combine(Directory, "run"),
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        return Runner.RunAsync(new CommandSpec("ip", ["netns", "exec", NamespaceOf(host), "sh", script, verb])
        {
            Environment = env,
            Timeout = TimeSpan.FromSeconds(60),
        });
    }

    public static ICommandRunner Runner => ProcessRunner.Instance;

    public async Task<CommandResult> Exec(string ns, params string[] command) =>
        await Runner.RunAsync(new CommandSpec("ip", ["netns", "exec", ns, .. command]) { Timeout = TimeSpan.FromSeconds(30) });

    public async Task<CommandResult> ExecOk(string ns, params string[] command)
    {
        var spec = new CommandSpec("ip", ["netns", "exec", ns, .. command]);
        return (await Runner.RunAsync(spec)).EnsureSuccess(spec);
    }

    /// <summary>Everything apply and down may touch in a namespace: links, addresses, routes of every table,
    /// rules, the nftables ruleset (stateless: counters left out) and the sysctls the script sets.</summary>
    public async Task<string> DumpAsync(string ns)
    {
        var dump = new StringBuilder();
        foreach (var command in new[]
        {
            "ip -d link show", "ip addr show", "ip route show table all", "ip rule show", "nft -s list ruleset",
            "for f in /proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/tcp_slow_start_after_idle /proc/sys/net/ipv4/tcp_congestion_control; do echo \"$f $(cat $f)\"; done",
        })
        {
            var result = await ExecOk(ns, "sh", "-c", command);
            dump.Append("$ ").Append(command).Append('\n').Append(result.StandardOutput);
        }

        return dump.ToString();
    }

    /// <summary>Stands in for the client's public IP: the internet can reach the client, and egress that left the client
    /// directly (a leak, or fail-open) gets its answer, so a test sees it.</summary>
    public Task RouteInternetToClientAsync() =>
        ExecOk(Internet, "ip", "route", "add", Topology.SubnetOf(ClientHost).Cidr.ToString(), "via", RouterInternetAddress);

    /// <summary>A stranger in the gateway's VPC (another subnet of it, 10.1.2.66/24 behind the same router), namespace
    /// PREFIX-sp, with eth0 and a default route via the router; returns its address.</summary>
    public async Task<string> AddStrangerInGatewayVpcAsync()
    {
        var ns = $"{Prefix}-sp";
        await Ip("netns", "add", ns);
        _namespaces.Add(ns);
        await Ip("-n", ns, "link", "set", "lo", "up");
        await Ip("link", "add", "vpcs", "netns", Router, "type", "veth", "peer", "name", "eth0", "netns", ns);
        await Ip("-n", Router, "addr", "add", "10.1.2.1/24", "dev", "vpcs");
        await Ip("-n", Router, "link", "set", "vpcs", "up");
        await Ip("-n", ns, "addr", "add", "10.1.2.66/24", "dev", "eth0");
        await Ip("-n", ns, "link", "set", "eth0", "up");
        await Ip("-n", ns, "route", "add", "default", "via", "10.1.2.1");
        return "10.1.2.66";
    }

    public string Stranger => $"{Prefix}-sp";

    /// <summary>Counts, in <paramref name="ns"/>'s prerouting, the packets that match <paramref name="match"/> (nft syntax)
    /// in a table of the test's own; read the figure with <see cref="CountedAsync"/>.</summary>
    public async Task CountAsync(string ns, string table, string match)
    {
        var result = await Runner.RunAsync(new CommandSpec("ip", ["netns", "exec", ns, "nft", "-f", "-"])
        {
            StandardInput = $"table ip {table} {{\n  chain count {{\n    type filter hook prerouting priority -300; policy accept;\n    {match} counter\n  }}\n}}\n",
        });
        result.EnsureSuccess(CommandSpec.Of("nft", "-f", "-", table));
    }

    public async Task<long> CountedAsync(string ns, string table)
    {
        var text = (await ExecOk(ns, "nft", "list", "table", "ip", table)).StandardOutput;
        var at = text.IndexOf("packets ", StringComparison.Ordinal);
        return long.Parse(text[(at + 8)..].Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>Starts the client's failover watcher (<c>egress-host watch</c>) as the lab and systemd do; each stderr line
    /// goes to <paramref name="onLine"/>. Killed by PID at dispose unless the caller ends it first.</summary>
    public Process StartWatcher(Action<string> onLine)
    {
        var script = WriteScript(ClientHost.Name);
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "netns", "exec", Client, "sh", script, "watch" })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["EGRESS_RUN_DIR"] = Path.Combine(Directory, "run");
        info.Environment["EGRESS_NETNS_ONLY"] = "1";
        var watcher = Process.Start(info)!;
        _listeners.Add(watcher);
        watcher.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine(e.Data);
            }
        };
        watcher.BeginErrorReadLine();
        watcher.OutputDataReceived += (_, _) => { };
        watcher.BeginOutputReadLine();
        return watcher;
    }

    /// <summary>Starts the address-echo server in <paramref name="ns"/>; it is killed by PID at dispose.</summary>
    public Task StartEchoServerAsync(string ns, string address, int port) =>
        StartProcessAsync(ns, "python3", "-u", "-c", EchoServer, address, port.ToString(CultureInfo.InvariantCulture));

    /// <summary>Starts a server in <paramref name="ns"/> and waits for its first line of output, "ready"; it is killed by
    /// PID at dispose.</summary>
    public async Task StartProcessAsync(string ns, params string[] command)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "netns", "exec", ns }.Concat(command))
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        _listeners.Add(process);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line != "ready")
        {
            throw new InvalidOperationException($"{command[0]} in {ns} did not start: {line} {await process.StandardError.ReadToEndAsync(timeout.Token)}");
        }
    }

    /// <summary>curl from <paramref name="ns"/>; the body is the address the server saw.</summary>
    public Task<CommandResult> FetchAsync(string ns, string url, string? sourceAddress = null, int seconds = 5) =>
        Exec(ns, ["curl", "-sS", "--max-time", seconds.ToString(CultureInfo.InvariantCulture), .. sourceAddress is null ? Array.Empty<string>() : ["--interface", sourceAddress], url]);

    private static async Task Ip(params string[] arguments)
    {
        var spec = new CommandSpec("ip", arguments);
        (await Runner.RunAsync(spec)).EnsureSuccess(spec);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _listeners)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    await process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            process.Dispose();
        }

        foreach (var ns in _namespaces.AsEnumerable().Reverse())
        {
            await Runner.RunAsync(CommandSpec.Of("ip", "netns", "del", ns));
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
