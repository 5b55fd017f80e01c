using System.Diagnostics;
using System.Net;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Lab.Services;
using Egress.Lab.World;

namespace Egress.Lab;

/// <summary>Bad lab input or state the user can fix (exit 2): a lab that is already up, a missing lab, an invalid id.</summary>
public sealed class LabException(string message) : Exception(message);

/// <summary>`lab up` could not build the lab on this machine (a command failed, the services did not start);
/// everything it had made is removed before this is thrown.</summary>
public sealed class LabUpFailedException(string message, Exception? inner = null) : Exception(message, inner);

public sealed record LabUpOptions
{
    public required TopologyModel Topology { get; init; }

    public required string Id { get; init; }

    /// <summary>Build the seed's misleading first design (client VPC default route → peering, no overlay).</summary>
    public bool Naive { get; init; }

    /// <summary>The command that runs `egress lab serve --id ID` (the services process); started inside the internet namespace.</summary>
    public required Func<string, CommandSpec> ServicesCommand { get; init; }

    /// <summary>The host scripts; unused by a naive lab.</summary>
    public IHostScriptRenderer? Scripts { get; init; }

    /// <summary>Progress lines for people.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>Milliseconds each of these regions' VPC resolver holds every query (`--resolver-delay REGION=MS`).</summary>
    public IReadOnlyDictionary<string, int> ResolverDelays { get; init; } = new Dictionary<string, int>();

    /// <summary>The command that runs `egress lab resolver --id ID --region REGION` (a delayed region's forwarder, see
    /// <see cref="LabResolverDelay"/>); needed only with <see cref="ResolverDelays"/>.</summary>
    public Func<string, string, CommandSpec>? ResolverCommand { get; init; }

    /// <summary>Set: every host boots as a VM (`--instances vm`) instead of a namespace running the host script.</summary>
    public Vm.VmLabOptions? Vms { get; init; }

    /// <summary>IPv6 on the clients' subnets and an IPv6 internet (docs/lab.md "IPv6"); namespace instances only.</summary>
    public bool Ipv6 { get; init; }
}

/// <summary>Builds and removes labs: applies a <see cref="LabWorldPlan"/> with ip/nft/sysctl through a command
/// runner, starts the services, applies the host scripts; removes exactly what it made.</summary>
public sealed class LabController(ICommandRunner runner, TimeProvider time)
{
    public const string NetnsOnlyVariable = "EGRESS_NETNS_ONLY";

    /// <summary>Generous: the services start in about 0.3 s here, but a slow (emulated) machine needs far longer.</summary>
    private static readonly TimeSpan ServicesStartTimeout = TimeSpan.FromSeconds(90);

    public static LabController Default { get; } = new(ProcessRunner.Instance, TimeProvider.System);

    public async Task<RunningLab> UpAsync(LabUpOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!LabNames.IsValidId(options.Id))
        {
            throw new LabException($"lab id '{options.Id}' is invalid: use {LabNames.ValidIdRule}.");
        }

        if (options.Vms is not null && options.Naive)
        {
            throw new LabException("a naive lab has no host scripts to boot with; --naive and --instances vm do not go together.");
        }

        if (options.Ipv6 && options.Vms is not null)
        {
            throw new LabException("IPv6 in the lab is for namespace instances only; --ipv6 and --instances vm do not go together.");
        }

        if (!options.Naive && options.Scripts is null && options.Vms is null)
        {
            throw new ArgumentException("A lab that is not naive needs the host scripts.", nameof(options));
        }

        if (options.ResolverDelays.Count > 0)
        {
            LabResolverDelay.Validate(options.ResolverDelays, options.Topology);
            if (options.ResolverCommand is null)
            {
                throw new ArgumentException("Resolver delays need the resolver command.", nameof(options));
            }
        }

        var state = new LabStateDirectory(options.Id);
        var taken = $"lab '{options.Id}' is already up (or left over). Run 'egress lab down --id {options.Id}' first, or pick another --id.";
        if (state.Exists || (await ExistingNamespacesAsync(options.Id, cancellationToken)).Count > 0)
        {
            throw new LabException(taken);
        }

        // The owner file goes first, created exclusively: from here on the id is this process's, and whatever happens
        // next (a failure, Ctrl-C, SIGTERM) `DownAsync` removes only what this process made.
        if (!state.TryClaim(LabOwner.Current))
        {
            throw new LabException(taken);
        }

        var progress = options.Progress ?? (_ => { });
        // The services start alongside the host scripts; on failure that start is stopped and awaited before the lab
        // is removed, so no services process can appear after `DownAsync` looked for it.
        using var servicesStart = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<int>? services = null;
        try
        {
            var kernel = await KernelFeatures.ProbeAsync(runner, options.Id, cancellationToken);
            var (overlay, overlayNote) = kernel.ResolveOverlay(options.Topology.Overlay.Mode);
            if (options.Vms is not null)
            {
                // The VMs run Debian's kernel (ipip, gre, vxlan) and the user data `egress apply` sends: auto as on EC2.
                overlay = OverlayPolicy.ForEc2(options.Topology).Overlay.Mode;
                overlayNote = $"{overlay.ToString().ToLowerInvariant()} (in the VMs' Debian kernel, from the user data as apply sends it)";
            }

            var instances = options.Vms is null ? LabInstances.Namespaces : LabInstances.Vm;
            var plan = LabWorldPlanner.Plan(options.Topology, options.Id, overlay, options.Naive, instances, options.Ipv6);
            // A VM lab emulates the delays inside its VMs (whose kernel has netem), not on the routers.
            var latencyNote = kernel.LatencyNote(options.Topology.Lab.Latency.Count > 0, vms: options.Vms is not null);
            var manifest = new LabManifest
            {
                Id = options.Id,
                Topology = TopologyWriter.ToYaml(options.Topology),
                Naive = options.Naive,
                Instances = instances,
                Overlay = overlay,
                OverlayNote = options.Naive ? "none (naive: no overlay, the seed's 0.0.0.0/0 → peering route)" : overlayNote,
                LatencyEmulated = (kernel.Netem || options.Vms is not null) && plan.Delays.Count > 0,
                LatencyNote = latencyNote,
                Created = time.GetUtcNow(),
                ResolverDelays = options.ResolverDelays,
                Ipv6 = options.Ipv6,
            };
            state.Write(manifest);
            await BuildWorldAsync(plan, state, options, progress, cancellationToken);
            var certificates = WriteCertificates(plan, state);
            progress($"certificates: lab CA written to /etc/netns/<ns>/ssl/certs/ca-certificates.crt ({certificates} namespaces)");
            services = StartServicesAsync(plan, state, options.ServicesCommand(options.Id), servicesStart.Token);
            if (options.Scripts is not null && options.Vms is null)
            {
                await WriteHostScriptsAsync(plan, state, options.Scripts, cancellationToken);
            }

            if (options.Vms is not null)
            {
                // The services answer before the VMs boot: their first probes find the internet up.
                await services;
                await new Vm.VmLab(runner).StartAsync(plan, state, options.Vms, progress, cancellationToken);
            }
            else if (!options.Naive)
            {
                await ApplyHostScriptsAsync(plan, state, cancellationToken);
                progress($"host scripts applied ({overlayNote})");
                foreach (var client in plan.Hosts.Where(h => h.Role == HostRole.Client))
                {
                    var watcher = await StartWatcherAsync(client.Namespace, client.Name, state, cancellationToken);
                    progress($"failover watcher of {client.Name} running (pid {watcher}; log {state.WatcherLog(client.Name)})");
                }
            }
            else
            {
                progress("host scripts written but not applied (naive): their checks show what is missing");
            }

            if (manifest.LatencyEmulated && options.Vms is null)
            {
                await ApplyDelaysAsync(plan, cancellationToken);
            }

            progress(latencyNote);
            var pid = await services;
            progress($"services up in {plan.InternetNamespace} (pid {pid}): {string.Join(", ", plan.Services.Select(s => $"{s.Name} {s.Address}"))}");
            return RunningLab.Open(options.Id);
        }
        catch (Exception ex) when (ex is CommandFailedException or LabUpFailedException or IOException)
        {
            await StopAsync(servicesStart, services);
            await DownAsync(options.Id, CancellationToken.None);
            // Ctrl-C in a terminal interrupts the children too: their failure is the cancellation, not a broken lab.
            cancellationToken.ThrowIfCancellationRequested();
            throw new LabUpFailedException($"lab up failed, and everything it had made is removed again: {ex.Message}", ex);
        }
        catch
        {
            await StopAsync(servicesStart, services);
            await DownAsync(options.Id, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Cancels a start still at work and waits for it to end (its own failure is the one being handled already).</summary>
    private static async Task StopAsync(CancellationTokenSource start, Task? started)
    {
        await start.CancelAsync();
        if (started is not null)
        {
            try
            {
                await started;
            }
            catch (Exception ex) when (ex is OperationCanceledException or CommandFailedException or LabUpFailedException or IOException)
            {
                // Reported through the failure that stopped `up`.
            }
        }
    }

    private async Task BuildWorldAsync(LabWorldPlan plan, LabStateDirectory state, LabUpOptions options, Action<string> progress, CancellationToken cancellationToken)
    {
        // 1. Namespaces and the veths between them, in one `ip -batch` run from the root namespace; both ends
        //    of every veth are created inside lab namespaces, none ever exists in the root namespace.
        var batch = plan.Namespaces.Select(n => $"netns add {n.Name}").Concat(plan.Veths.Select(v => v.BatchLine));
        await RunAsync(CommandSpec.Of("ip", "-batch", "-") with { StandardInput = string.Join('\n', batch) + "\n" }, cancellationToken);

        // 2. Names and resolver for every namespace (ip netns exec bind-mounts these over /etc).
        foreach (var ns in plan.Namespaces)
        {
            var etc = Path.Combine(LabNames.NetnsEtc, ns.Name);
            Directory.CreateDirectory(etc);
            await File.WriteAllTextAsync(Path.Combine(etc, "hosts"), plan.HostsFile, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(etc, "resolv.conf"), plan.ResolvConfOf(ns), cancellationToken);
        }

        // 3. Inside each namespace, in parallel: sysctls, addresses and routes, nftables.
        Directory.CreateDirectory(Path.Combine(state.Path, "ns"));
        await Task.WhenAll(plan.Namespaces.Select(async ns =>
        {
            var ipFile = state.NamespaceFile(ns.Name, "ip");
            await File.WriteAllTextAsync(ipFile, string.Join('\n', ns.IpBatch) + "\n", cancellationToken);
            var script = "set -e\n" +
                         (ns.Sysctls.Count > 0 ? "sysctl -q -w " + string.Join(' ', ns.Sysctls) + "\n" : string.Empty) +
                         $"ip -batch {ipFile}\n";
            if (ns.Nftables is not null)
            {
                var nftFile = state.NamespaceFile(ns.Name, "nft");
                await File.WriteAllTextAsync(nftFile, ns.Nftables, cancellationToken);
                script += $"nft -f {nftFile}\n";
            }

            await RunAsync(CommandSpec.Of("ip", "netns", "exec", ns.Name, "sh", "-c", script), cancellationToken);
        }));
        progress($"world built: {plan.Namespaces.Count} namespaces, {plan.Veths.Count} veth pairs, {plan.Peerings.Count} peering(s)");

        // 4. Each region's VPC resolver: dnsmasq on base + 2 and 169.254.169.253 in the router's namespace, answering only
        //    its hosts file and every name under the geo name (a CDN's many names; tests ask names never asked before, which
        //    no cache holds), with no upstream: nothing leaves the lab. Its pid file names the state directory, so `down` stops it.
        //    A region with a resolver delay has dnsmasq on port 5353 of those addresses and the delaying forwarder on 53.
        foreach (var resolver in plan.Resolvers)
        {
            var hosts = state.NamespaceFile(resolver.Namespace, "dns-hosts");
            var delayed = options.ResolverDelays.ContainsKey(resolver.Region);
            await File.WriteAllTextAsync(hosts, resolver.HostsFile, cancellationToken);
            await RunAsync(CommandSpec.Of("ip", "netns", "exec", resolver.Namespace, "dnsmasq", "--conf-file=/dev/null", "--user=root", "--no-resolv", "--no-hosts",
                "--bind-interfaces", $"--listen-address={resolver.Address}", $"--listen-address={LabWorldPlanner.AmazonDns}", "--addn-hosts=" + hosts,
                $"--address=/{LabWorldPlan.GeoName}/{resolver.Edge}", $"--port={(delayed ? LabResolverDelay.UpstreamPort : 53)}",
                "--local-ttl=60", "--pid-file=" + state.NamespaceFile(resolver.Namespace, "dnsmasq.pid"), "--log-facility=" + state.NamespaceFile(resolver.Namespace, "dnsmasq.log")), cancellationToken);
            if (delayed)
            {
                await LabProcesses.StartAsync(runner, resolver.Namespace, options.ResolverCommand!(plan.Id, resolver.Region), state.ResolverDelayFile(resolver.Region, "log"),
                    state.ResolverDelayFile(resolver.Region, "ready"), state.ResolverDelayFile(resolver.Region, "pid"), $"the delaying resolver of {resolver.Region}",
                    ServicesStartTimeout, cancellationToken);
            }
        }

        if (plan.Resolvers.Count > 0)
        {
            progress($"VPC resolvers (dnsmasq): {string.Join(", ", plan.Resolvers.Select(r => $"{r.Region} {r.Address} ({LabWorldPlan.GeoName} -> {r.Edge})" +
                (options.ResolverDelays.TryGetValue(r.Region, out var ms) ? $", answering after {ms} ms" : string.Empty)))}");
        }
    }

    private int WriteCertificates(LabWorldPlan plan, LabStateDirectory state)
    {
        var certificates = LabCertificates.Create(
            plan.Services.Select(s => s.Name).Append(LabWorldPlan.GeoName),
            plan.Services.Select(s => s.Address).Concat(plan.Edges.Select(e => e.Address)).Select(a => IPAddress.Parse(a.ToString())),
            plan.Id,
            time);
        File.WriteAllText(state.CaCertificate, certificates.CaPem);
        File.WriteAllText(state.LeafCertificate, certificates.LeafPem);
        File.WriteAllText(state.LeafKey, certificates.LeafKeyPem);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(state.LeafKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        foreach (var ns in plan.Namespaces)
        {
            var certs = Path.Combine(LabNames.NetnsEtc, ns.Name, "ssl", "certs");
            Directory.CreateDirectory(certs);
            File.WriteAllText(Path.Combine(certs, "ca-certificates.crt"), certificates.CaPem);
        }

        return plan.Namespaces.Count;
    }

    /// <summary>Starts the services process detached (setsid, output to services.log) inside the internet
    /// namespace and waits for it to say it listens; returns its PID (written by the process itself).</summary>
    private async Task<int> StartServicesAsync(LabWorldPlan plan, LabStateDirectory state, CommandSpec serve, CancellationToken cancellationToken)
    {
        var pid = await LabProcesses.StartAsync(runner, plan.InternetNamespace, serve, state.ServicesLog, state.ServicesReady, state.ServicesPid, "the lab services",
            ServicesStartTimeout, cancellationToken);
        await WarmUpServicesAsync(plan, state, cancellationToken);
        return pid;
    }

    /// <summary>A few requests to every service from inside the internet namespace, so the first measured request
    /// of a check never pays for the server's JIT and TLS start-up (a real API is warm), and so `up` knows the
    /// services answer over HTTPS with the lab CA.</summary>
    private async Task WarmUpServicesAsync(LabWorldPlan plan, LabStateDirectory state, CancellationToken cancellationToken)
    {
        var first = plan.Services[0].Name;
        var urls = plan.Services.Select(s => $"https://{s.Name}/json").Prepend($"https://{first}/api/v3/time").Append($"http://{first}/").ToList();
        var warm = new CommandSpec("ip", ["netns", "exec", plan.InternetNamespace, "sh", "-c",
            "for u; do curl -sS -o /dev/null --max-time 60 --cacert \"$0\" \"$u\" || exit 1; done",
            state.CaCertificate, .. urls])
        {
            Timeout = TimeSpan.FromMinutes(5),
        };
        var result = await runner.RunAsync(warm, cancellationToken);
        if (!result.Succeeded)
        {
            throw new LabUpFailedException($"the lab services started but do not answer: {result.StandardError.Trim()}");
        }
    }

    /// <summary>Every host's script, rendered for the overlay the lab resolved, to hosts/&lt;host&gt;.sh.</summary>
    private static async Task WriteHostScriptsAsync(LabWorldPlan plan, LabStateDirectory state, IHostScriptRenderer scripts, CancellationToken cancellationToken)
    {
        var topology = plan.Topology with { Overlay = plan.Topology.Overlay with { Mode = plan.Overlay } };
        Directory.CreateDirectory(Path.GetDirectoryName(state.HostScript("x"))!);
        foreach (var host in plan.Hosts)
        {
            await File.WriteAllTextAsync(state.HostScript(host.Name), scripts.Render(topology, host.Name), cancellationToken);
        }
    }

    private async Task ApplyHostScriptsAsync(LabWorldPlan plan, LabStateDirectory state, CancellationToken cancellationToken)
    {
        // Gateways first, so a client's first packets find their tunnel's far end ready.
        foreach (var group in plan.Hosts.GroupBy(h => h.Role).OrderBy(g => g.Key == HostRole.Gateway ? 0 : 1))
        {
            await Task.WhenAll(group.Select(host => RunAsync(
                new CommandSpec("ip", ["netns", "exec", host.Namespace, "sh", state.HostScript(host.Name), "apply"])
                {
                    Environment = RunningLab.ScriptEnvironment(state, host.Name),
                },
                cancellationToken)));
        }
    }

    /// <summary>How long the lab's supervisor waits before it restarts a watcher that exited (systemd's RestartSec on EC2).</summary>
    public const string WatcherRestartDelay = "0.5";

    /// <summary>Starts the client's failover watcher (`egress-host watch`) in its namespace under a supervisor, the lab's
    /// stand-in for systemd's `Restart=always`: a detached shell (PID in hosts/&lt;host&gt;.watch.supervisor.pid) that
    /// runs the watcher, writes its PID to hosts/&lt;host&gt;.watch.pid and restarts it whenever it exits (a crash, a
    /// SIGKILL). Output of both goes to hosts/&lt;host&gt;.watch.log. `down` ends the supervisor first, then the watcher.</summary>
    private async Task<int> StartWatcherAsync(string ns, string host, LabStateDirectory state, CancellationToken cancellationToken)
    {
        const string supervisor = """
            script=$1; pidfile=$2; delay=$3
            while :; do
              sh "$script" watch &
              echo $! > "$pidfile.tmp" && mv "$pidfile.tmp" "$pidfile"
              wait $!
              echo "egress lab: the watcher exited (status $?); the supervisor restarts it in $delay s" >&2
              sleep "$delay"
            done
            """;
        var launch = new CommandSpec("sh",
        [
            "-c", "setsid \"$@\" >\"$0\" 2>&1 </dev/null & echo $!",
            state.WatcherLog(host), "ip", "netns", "exec", ns, "sh", "-c", supervisor, "supervise",
            state.HostScript(host), state.WatcherPid(host), WatcherRestartDelay,
        ])
        {
            Environment = RunningLab.ScriptEnvironment(state, host),
        };
        var result = await RunAsync(launch, cancellationToken);
        await File.WriteAllTextAsync(state.WatcherSupervisorPid(host), result.StandardOutput.Trim(), cancellationToken);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (TryReadPid(state.WatcherPid(host)) is { } pid)
            {
                return pid;
            }

            await Task.Delay(10, cancellationToken);
        }

        throw new LabUpFailedException($"the failover watcher of {host} did not start (log {state.WatcherLog(host)}).");
    }

    /// <summary>Name of the nftables table `lab fail` puts in a gateway's namespace: it drops everything the gateway
    /// receives, sends or forwards (as if the instance died); `lab heal` deletes it. Routes and the host script's own
    /// table stay untouched, so healing needs nothing else.</summary>
    public const string FailTable = "egress_lab_fail";

    /// <summary>Cuts (<paramref name="fail"/>) or restores a gateway of a running lab.</summary>
    public async Task SetGatewayFailedAsync(RunningLab lab, string gateway, bool fail, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var host = lab.Plan.Hosts.FirstOrDefault(h => h.Name == gateway && h.Role == HostRole.Gateway)
            ?? throw new LabException($"'{gateway}' is not a gateway of lab {lab.Id}; its gateways: {string.Join(", ", lab.Plan.Hosts.Where(h => h.Role == HostRole.Gateway).Select(h => h.Name))}.");
        var exists = await IsCutAsync(host.Namespace, cancellationToken);
        if (fail && !exists)
        {
            var table = $"table inet {FailTable} {{\n" +
                "  chain input {\n    type filter hook input priority -300; policy drop;\n  }\n" +
                "  chain forward {\n    type filter hook forward priority -300; policy drop;\n  }\n" +
                "  chain output {\n    type filter hook output priority -300; policy drop;\n  }\n}\n";
            await RunAsync(new CommandSpec("ip", ["netns", "exec", host.Namespace, "nft", "-f", "-"]) { StandardInput = table }, cancellationToken);
        }
        else if (!fail && exists)
        {
            await RunAsync(CommandSpec.Of("ip", "netns", "exec", host.Namespace, "nft", "delete", "table", "inet", FailTable), cancellationToken);
        }
    }

    /// <summary>Whether `lab fail` has cut the gateway in <paramref name="ns"/> off (its drop-everything table exists).</summary>
    private async Task<bool> IsCutAsync(string ns, CancellationToken cancellationToken) =>
        (await runner.RunAsync(CommandSpec.Of("ip", "netns", "exec", ns, "nft", "list", "table", "inet", FailTable), cancellationToken)).Succeeded;

    /// <summary>What the lab emulates of AWS that a host cannot see for itself: which gateways are cut off (`lab fail`, an
    /// instance that died) and which peering links are down (a peering that is not active). For `egress doctor`.</summary>
    public async Task<LabEmulationState> EmulationStateAsync(RunningLab lab, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var cut = new List<string>();
        foreach (var gateway in lab.Plan.Hosts.Where(h => h.Role == HostRole.Gateway))
        {
            if (await IsCutAsync(gateway.Namespace, cancellationToken))
            {
                cut.Add(gateway.Name);
            }
        }

        var down = new List<LabPeeringState>();
        foreach (var peering in lab.Plan.Peerings)
        {
            foreach (var region in new[] { peering.Requester, peering.Accepter })
            {
                var link = await runner.RunAsync(CommandSpec.Of("ip", "-n", LabNames.RouterNamespace(lab.Id, region), "-o", "link", "show", "dev", peering.Interface), cancellationToken);
                var up = link.Succeeded && link.StandardOutput.Contains(",UP", StringComparison.Ordinal) && !link.StandardOutput.Contains("state DOWN", StringComparison.Ordinal);
                if (!up)
                {
                    down.Add(new LabPeeringState(peering.Requester, peering.Accepter, region, peering.Interface, link.Succeeded ? "down" : "missing"));
                }
            }
        }

        return new LabEmulationState(cut, down, lab.ServicesPid is not null);
    }

    /// <summary>Removes (<paramref name="on"/> false) or restores a lab's emulated link delays (netem), so verify can
    /// measure the lab's own compute with no delay in the same run and judge latency net of it.</summary>
    public async Task SetDelaysAsync(RunningLab lab, bool on, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lab);
        if (!lab.LatencyEmulated || lab.Manifest.Instances == LabInstances.Vm)
        {
            return; // a VM lab's delays are inside its VMs: LabVerification switches them over SSH
        }

        if (on)
        {
            await ApplyDelaysAsync(lab.Plan, cancellationToken);
            return;
        }

        foreach (var delay in lab.Plan.Delays)
        {
            // Deleting the root qdisc restores the default one; a link that has none already is fine.
            await runner.RunAsync(CommandSpec.Of("tc", "-n", delay.Namespace, "qdisc", "del", "dev", delay.Interface, "root"), cancellationToken);
        }
    }

    private async Task ApplyDelaysAsync(LabWorldPlan plan, CancellationToken cancellationToken)
    {
        foreach (var delay in plan.Delays)
        {
            await RunAsync(CommandSpec.Of("tc", "-n", delay.Namespace, "qdisc", "replace", "dev", delay.Interface, "root", "netem", "delay", $"{delay.DelayMs}ms"), cancellationToken);
        }
    }

    /// <summary>Removes every namespace (and so every veth), /etc/netns entry, process and state file of lab
    /// <paramref name="id"/>. Idempotent: a lab that is not there is removed already.</summary>
    public async Task<LabDownResult> DownAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!LabNames.IsValidId(id))
        {
            throw new LabException($"lab id '{id}' is invalid: use {LabNames.ValidIdRule}.");
        }

        var state = new LabStateDirectory(id);
        var namespaces = await ExistingNamespacesAsync(id, cancellationToken);
        var killed = new List<int>();
        // Watcher supervisors first, so none starts a new watcher while the lab's processes are being stopped.
        foreach (var supervisor in Directory.Exists(Path.Combine(state.Path, "hosts"))
            ? Directory.GetFiles(Path.Combine(state.Path, "hosts"), "*" + LabStateDirectory.SupervisorPidSuffix)
            : [])
        {
            if (TryReadPid(supervisor) is { } pid && IsAlive(pid) && IsLabProcess(pid, state))
            {
                Kill(pid);
                killed.Add(pid);
            }
        }

        await WaitForExitAsync(killed, TimeSpan.FromSeconds(2));
        if (TryReadPid(state.ServicesPid) is { } servicesPid && IsServicesProcess(servicesPid, id))
        {
            Kill(servicesPid);
            killed.Add(servicesPid);
        }

        // Anything still running inside the lab's namespaces belongs to the lab (a curl, an iperf3, a watcher), and so
        // does any process whose command line names the lab's state directory (one between `setsid` and `ip netns exec`
        // is not in a namespace yet): stop them by PID, and again until none is left, because a process that was
        // listed but not yet killed may start another (the watcher's route moves run under a lock) that the first
        // listing did not hold. One listing left such a process running with the namespace deleted under it.
        for (var round = 0; round < 10; round++)
        {
            var pids = ProcessesOf(state, id).ToHashSet();
            if (namespaces.Count > 0)
            {
                var listed = await RunAsync(CommandSpec.Of("sh", ["-c", "for n; do ip netns pids \"$n\"; done", "sh", .. namespaces]), cancellationToken);
                pids.UnionWith(listed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse));
            }

            pids.Remove(Environment.ProcessId);
            if (pids.Count == 0)
            {
                break;
            }

            foreach (var pid in pids)
            {
                Kill(pid);
                killed.Add(pid);
            }

            await WaitForExitAsync([.. pids], TimeSpan.FromSeconds(2));
        }

        if (namespaces.Count > 0)
        {
            await RunAsync(CommandSpec.Of("ip", "-force", "-batch", "-") with { StandardInput = string.Concat(namespaces.Select(n => $"netns del {n}\n")) }, cancellationToken);
        }

        var etcRemoved = 0;
        if (Directory.Exists(LabNames.NetnsEtc))
        {
            foreach (var dir in Directory.GetDirectories(LabNames.NetnsEtc, LabNames.NamespacePrefix(id) + "*"))
            {
                Directory.Delete(dir, recursive: true);
                etcRemoved++;
            }
        }

        var hadState = Directory.Exists(state.Path);
        if (hadState)
        {
            Directory.Delete(state.Path, recursive: true);
        }

        return new LabDownResult(id, namespaces, killed, etcRemoved, hadState);
    }

    /// <summary>Removes the egl-* namespaces, /etc/netns/egl-* entries and /run/egress-lab state of every lab whose owner
    /// is gone (leftovers of crashed runs, labs `lab up` made and returned from); keeps the labs whose owner process still
    /// runs (a `lab up` or `lab run` at work, a test) unless <paramref name="force"/>. <paramref name="scope"/> limits the
    /// sweep to some ids (tests sweep only their own labs).</summary>
    public async Task<LabSweep> DownAllAsync(bool force = false, Func<string, bool>? scope = null, CancellationToken cancellationToken = default)
    {
        var ids = new SortedSet<string>(LabStateDirectory.List(), StringComparer.Ordinal);
        foreach (var ns in await ListNamespacesAsync(cancellationToken))
        {
            if (IdOf(ns) is { } id)
            {
                ids.Add(id);
            }
        }

        if (Directory.Exists(LabNames.NetnsEtc))
        {
            foreach (var dir in Directory.GetDirectories(LabNames.NetnsEtc, LabNames.Prefix + "*"))
            {
                if (IdOf(Path.GetFileName(dir)) is { } id)
                {
                    ids.Add(id);
                }
            }
        }

        var removed = new List<LabDownResult>();
        var kept = new List<LabKept>();
        foreach (var id in ids.Where(i => scope?.Invoke(i) ?? true))
        {
            if (!force && new LabStateDirectory(id).ReadOwner() is { IsAlive: true } owner)
            {
                kept.Add(new LabKept(id, owner));
                continue;
            }

            removed.Add(await DownAsync(id, cancellationToken));
        }

        return new LabSweep(removed, kept);
    }

    internal static string? IdOf(string ns)
    {
        if (!ns.StartsWith(LabNames.Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = ns[LabNames.Prefix.Length..];
        var dash = rest.IndexOf('-', StringComparison.Ordinal);
        var id = dash < 0 ? rest : rest[..dash];
        return LabNames.IsValidId(id) ? id : null;
    }

    public async Task<IReadOnlyList<string>> ExistingNamespacesAsync(string id, CancellationToken cancellationToken = default) =>
        [.. (await ListNamespacesAsync(cancellationToken)).Where(n => n.StartsWith(LabNames.NamespacePrefix(id), StringComparison.Ordinal))];

    private async Task<IReadOnlyList<string>> ListNamespacesAsync(CancellationToken cancellationToken)
    {
        var result = await RunAsync(CommandSpec.Of("ip", "netns", "list"), cancellationToken);
        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', 2)[0].Trim())
            .Where(n => n.StartsWith(LabNames.Prefix, StringComparison.Ordinal))];
    }

    private async Task<CommandResult> RunAsync(CommandSpec spec, CancellationToken cancellationToken) =>
        (await runner.RunAsync(spec, cancellationToken)).EnsureSuccess(spec);

    internal static int? TryReadPid(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) && pid > 1 ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static bool IsAlive(int pid) => File.Exists($"/proc/{pid}/stat") && !IsZombie(pid);

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] == 'Z';
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>True when <paramref name="pid"/> is this lab's services process (so a recycled PID is never killed).</summary>
    internal static bool IsServicesProcess(int pid, string id)
    {
        try
        {
            var args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            return args.Contains("serve") && args.Contains(id);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="pid"/>'s command line names a file of this lab's state directory (a recycled
    /// PID is never killed).</summary>
    private static bool IsLabProcess(int pid, LabStateDirectory state)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0').Any(a => a.StartsWith(state.Path + "/", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The live processes whose command line names a file of the lab's state directory, and its services process
    /// (also before it has entered the internet namespace).</summary>
    private static IEnumerable<int> ProcessesOf(LabStateDirectory state, string id)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && IsAlive(pid) && (IsLabProcess(pid, state) || IsServicesProcess(pid, id)))
            {
                yield return pid;
            }
        }
    }

    private static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static async Task WaitForExitAsync(IReadOnlyList<int> pids, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (pids.Any(IsAlive) && clock.Elapsed < timeout)
        {
            await Task.Delay(10);
        }
    }
}

/// <summary>The lab's emulated AWS faults: gateways cut off, peering links down (seen from one side), the services up.</summary>
public sealed record LabEmulationState(IReadOnlyList<string> CutGateways, IReadOnlyList<LabPeeringState> PeeringsDown, bool ServicesUp);

public sealed record LabPeeringState(string Requester, string Accepter, string Side, string Interface, string State);

/// <summary>What `lab down --all` did: the labs it removed and those it kept because their owner still runs.</summary>
public sealed record LabSweep(IReadOnlyList<LabDownResult> Removed, IReadOnlyList<LabKept> Kept);

public sealed record LabKept(string Id, LabOwner Owner);

public sealed record LabDownResult(string Id, IReadOnlyList<string> Namespaces, IReadOnlyList<int> StoppedProcesses, int EtcEntries, bool HadState)
{
    public bool WasUp => Namespaces.Count > 0 || StoppedProcesses.Count > 0 || EtcEntries > 0 || HadState;
}
