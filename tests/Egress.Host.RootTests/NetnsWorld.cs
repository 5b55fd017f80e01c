using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Egress.Core.Topology;
using Egress.Host.Execution;
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

    private NetnsWorld(TopologyModel topology)
    {
        Topology = topology;
        Prefix = "eh" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        Directory = System.IO.Directory.CreateTempSubdirectory($"{Prefix}-").FullName;
        ClientHost = topology.Hosts.First(h => h.Role == HostRole.Client);
        GatewayHost = topology.FindHost(ClientHost.EgressVia[0])!;
    }

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

    public static async Task<NetnsWorld> CreateAsync(TopologyModel topology)
    {
        Prerequisites.RequireRoot();
        Prerequisites.RequireProgram("ip", "iproute2");
        Prerequisites.RequireProgram("nft", "nftables");
        Prerequisites.RequireProgram("curl", "curl");
        Prerequisites.RequireProgram("python3", "python3");
        var world = new NetnsWorld(topology);
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
        foreach (var ns in new[] { Client, Gateway, Router, Internet })
        {
            await Ip("netns", "add", ns);
            _namespaces.Add(ns);
            await Ip("-n", ns, "link", "set", "lo", "up");
            // IPv4 only: IPv6 link-local addresses appear late (DAD) and would make dumps taken a moment apart differ.
            await Exec(ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6");
        }

        var clientSubnet = Topology.SubnetOf(ClientHost);
        var gatewaySubnet = Topology.SubnetOf(GatewayHost);
        await Ip("link", "add", "vpca", "netns", Router, "type", "veth", "peer", "name", "eth0", "netns", Client);
        await Ip("link", "add", "vpcb", "netns", Router, "type", "veth", "peer", "name", "eth0", "netns", Gateway);
        await Ip("link", "add", "wan0", "netns", Router, "type", "veth", "peer", "name", "eth0", "netns", Internet);
        await Ip("-n", Router, "addr", "add", $"{clientSubnet.Router}/{clientSubnet.Cidr.PrefixLength}", "dev", "vpca");
        await Ip("-n", Router, "addr", "add", $"{gatewaySubnet.Router}/{gatewaySubnet.Cidr.PrefixLength}", "dev", "vpcb");
        await Ip("-n", Router, "addr", "add", $"{RouterInternetAddress}/24", "dev", "wan0");
        foreach (var link in new[] { "vpca", "vpcb", "wan0" })
        {
            await Ip("-n", Router, "link", "set", link, "up");
        }

        await Exec(Router, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward");
        foreach (var (ns, host, subnet) in new[] { (Client, ClientHost, clientSubnet), (Gateway, GatewayHost, gatewaySubnet) })
        {
            await Ip("-n", ns, "addr", "add", $"{host.PrivateIp}/{subnet.Cidr.PrefixLength}", "dev", "eth0");
            await Ip("-n", ns, "link", "set", "eth0", "up");
            await Ip("-n", ns, "route", "add", "default", "via", subnet.Router.ToString());
        }

        await Ip("-n", Internet, "addr", "add", $"{InternetAddress}/24", "dev", "eth0");
        await Ip("-n", Internet, "link", "set", "eth0", "up");
        await Ip("-n", Internet, "route", "add", gatewaySubnet.Cidr.ToString(), "via", RouterInternetAddress);
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
        foreach (var (ns, link) in new[] { (Client, "eth0"), (Gateway, "eth0"), (Internet, "eth0"), (Router, "vpca"), (Router, "vpcb"), (Router, "wan0") })
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

    public string NamespaceOf(string host) => host == ClientHost.Name ? Client : host == GatewayHost.Name ? Gateway : throw new ArgumentException(host);

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

    /// <summary>Starts the address-echo server in <paramref name="ns"/>; it is killed by PID at dispose.</summary>
    public async Task StartEchoServerAsync(string ns, string address, int port)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "netns", "exec", ns, "python3", "-u", "-c", EchoServer, address, port.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        _listeners.Add(process);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line != "ready")
        {
            throw new InvalidOperationException($"the echo server in {ns} did not start: {line} {await process.StandardError.ReadToEndAsync(timeout.Token)}");
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
