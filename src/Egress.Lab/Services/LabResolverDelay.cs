using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Egress.Core.Topology;
using Egress.Lab.World;

namespace Egress.Lab.Services;

/// <summary>`lab up --resolver-delay REGION=MS`: a region's VPC resolver answers only after MS milliseconds, like a slow
/// or far resolver. dnsmasq has no delay option (and the lab kernel may have no netem), so the region's dnsmasq moves to
/// port <see cref="UpstreamPort"/> of the same addresses and this forwarder takes port 53 (UDP and TCP) of the resolver's
/// addresses (VPC base + 2 and 169.254.169.253): it holds each query for the delay, then forwards it to dnsmasq and
/// relays the answer. It runs as `egress lab resolver --id ID --region REGION` in the region's router namespace.</summary>
public static class LabResolverDelay
{
    /// <summary>Where a delayed region's dnsmasq listens instead of port 53 (on the same addresses).</summary>
    public const int UpstreamPort = 5353;

    public const int MaxDelayMs = 10_000;

    public const string OptionHelp = "REGION=MS";

    /// <summary>--resolver-delay values (REGION=MS, one per region) checked against <paramref name="topology"/>; throws
    /// <see cref="LabException"/> naming the bad value and the fix.</summary>
    public static IReadOnlyDictionary<string, int> Parse(IEnumerable<string> values, TopologyModel topology)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(topology);
        var delays = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            var region = equals > 0 ? value[..equals] : string.Empty;
            var ms = equals > 0 ? value[(equals + 1)..] : string.Empty;
            if (region.Length == 0 || !int.TryParse(ms, NumberStyles.None, CultureInfo.InvariantCulture, out var delay) || delay < 1 || delay > MaxDelayMs)
            {
                throw new LabException($"--resolver-delay '{value}': give {OptionHelp} with a region of the topology and 1 to {MaxDelayMs} milliseconds, e.g. --resolver-delay {topology.Regions[0].Name}=300.");
            }

            delays[region] = delays.ContainsKey(region)
                ? throw new LabException($"--resolver-delay names {region} twice: give each region once.")
                : delay;
        }

        Validate(delays, topology);
        return delays;
    }

    /// <summary>Every delayed region must be one of the topology's. (VM labs too: their DHCP hands out the same VPC resolvers.)</summary>
    public static void Validate(IReadOnlyDictionary<string, int> delays, TopologyModel topology)
    {
        ArgumentNullException.ThrowIfNull(delays);
        ArgumentNullException.ThrowIfNull(topology);

        foreach (var region in delays.Keys.Where(r => topology.Regions.All(g => g.Name != r)))
        {
            throw new LabException($"--resolver-delay {region}={delays[region]}: the topology has no region {region}; its regions: {string.Join(", ", topology.Regions.Select(r => r.Name))}.");
        }
    }

    /// <summary>The forwarder of <paramref name="region"/> in lab <paramref name="id"/> (its delay from the manifest):
    /// writes its PID file, binds, writes its ready file, and serves until cancelled or killed.</summary>
    public static async Task ServeAsync(string id, string region, CancellationToken cancellationToken)
    {
        var lab = RunningLab.Open(id);
        var resolver = lab.Plan.Resolvers.SingleOrDefault(r => r.Region == region)
            ?? throw new LabException($"lab {id} has no VPC resolver in {region}.");
        if (!lab.Manifest.ResolverDelays.TryGetValue(region, out var ms))
        {
            throw new LabException($"lab {id} has no resolver delay for {region}.");
        }

        await File.WriteAllTextAsync(lab.State.ResolverDelayFile(region, "pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken);
        var address = IPAddress.Parse(resolver.Address.ToString());
        await RunAsync(
            [address, IPAddress.Parse(LabWorldPlanner.AmazonDns.ToString())],
            new IPEndPoint(address, UpstreamPort),
            TimeSpan.FromMilliseconds(ms),
            () => File.WriteAllText(lab.State.ResolverDelayFile(region, "ready"), "ready\n"),
            cancellationToken);
    }

    /// <summary>Listens on port 53 (UDP and TCP) of each of <paramref name="listen"/>, calls <paramref name="ready"/>, and
    /// answers each query with <paramref name="upstream"/>'s answer after <paramref name="delay"/>.</summary>
    public static async Task RunAsync(IReadOnlyList<IPAddress> listen, IPEndPoint upstream, TimeSpan delay, Action ready, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(ready);
        var udp = new List<UdpClient>();
        var tcp = new List<TcpListener>();
        try
        {
            foreach (var address in listen)
            {
                // Bound to the address itself (not the wildcard), so an answer leaves from the address the client asked.
                udp.Add(new UdpClient(new IPEndPoint(address, 53)));
                var listener = new TcpListener(address, 53);
                listener.Start();
                tcp.Add(listener);
            }

            ready();
            await Task.WhenAll(udp.Select(u => ServeUdpAsync(u, upstream, delay, cancellationToken))
                .Concat(tcp.Select(t => ServeTcpAsync(t, upstream, delay, cancellationToken))));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
        finally
        {
            udp.ForEach(u => u.Dispose());
            tcp.ForEach(t => t.Dispose());
        }
    }

    private static async Task ServeUdpAsync(UdpClient socket, IPEndPoint upstream, TimeSpan delay, CancellationToken cancellationToken)
    {
        while (true)
        {
            var query = await socket.ReceiveAsync(cancellationToken);
            _ = AnswerUdpAsync(socket, query, upstream, delay, cancellationToken);
        }
    }

    private static async Task AnswerUdpAsync(UdpClient socket, UdpReceiveResult query, IPEndPoint upstream, TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
            using var client = new UdpClient(upstream.AddressFamily);
            client.Connect(upstream);
            await client.SendAsync(query.Buffer, cancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var answer = await client.ReceiveAsync(timeout.Token);
            await socket.SendAsync(answer.Buffer, query.RemoteEndPoint, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // No answer: the client asks again, as after a lost datagram.
        }
    }

    private static async Task ServeTcpAsync(TcpListener listener, IPEndPoint upstream, TimeSpan delay, CancellationToken cancellationToken)
    {
        while (true)
        {
            var client = await listener.AcceptTcpClientAsync(cancellationToken);
            _ = RelayTcpAsync(client, upstream, delay, cancellationToken);
        }
    }

    /// <summary>DNS over TCP: each message is a 2-byte length and the message; every query on the connection waits the delay.</summary>
    private static async Task RelayTcpAsync(TcpClient client, IPEndPoint upstream, TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            using (client)
            using (var server = new TcpClient(upstream.AddressFamily))
            {
                await server.ConnectAsync(upstream, cancellationToken);
                var asker = client.GetStream();
                var answerer = server.GetStream();
                while (await ReadMessageAsync(asker, cancellationToken) is { } query)
                {
                    await Task.Delay(delay, cancellationToken);
                    await answerer.WriteAsync(query, cancellationToken);
                    var answer = await ReadMessageAsync(answerer, cancellationToken) ?? throw new EndOfStreamException();
                    await asker.WriteAsync(answer, cancellationToken);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // The connection ends; the client asks again.
        }
    }

    /// <summary>One length-prefixed message (with its prefix), or null at the end of the stream.</summary>
    private static async Task<byte[]?> ReadMessageAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var length = new byte[2];
        if (await stream.ReadAtLeastAsync(length, 2, throwOnEndOfStream: false, cancellationToken) < 2)
        {
            return null;
        }

        var message = new byte[2 + BinaryPrimitives.ReadUInt16BigEndian(length)];
        length.CopyTo(message, 0);
        await stream.ReadExactlyAsync(message.AsMemory(2), cancellationToken);
        return message;
    }
}
