using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Egress.Core;
using Egress.Core.Net;
using Egress.Processes;
using Egress.Lab.World;

namespace Egress.Lab.Vm;

/// <summary>Files of a VM lab under /run/egress-lab/&lt;id&gt;/vm/.</summary>
public sealed class VmFiles(LabStateDirectory state)
{
    public string Directory { get; } = Path.Combine(state.Path, "vm");

    public string PrivateKey => Path.Combine(Directory, "id_ed25519");

    public string PublicKey => PrivateKey + ".pub";

    public string Image => Path.Combine(Directory, "image");

    /// <summary>"kvm" or "tcg", as `up` chose it: `lab heal` boots with the same.</summary>
    public string Accelerator => Path.Combine(Directory, "accelerator");

    public string UserData(string host) => Path.Combine(Directory, host + ".user-data");

    public string Disk(string host) => Path.Combine(Directory, host + ".qcow2");

    /// <summary>The serial console, kept across reboots (appended), like GetConsoleOutput.</summary>
    public string Console(string host) => Path.Combine(Directory, host + ".console");

    public string Pid(string host) => Path.Combine(Directory, host + ".pid");

    public string Monitor(string host) => Path.Combine(Directory, host + ".monitor");

    public string DnsmasqPid(string region) => Path.Combine(Directory, region + ".dnsmasq.pid");

    public string DnsmasqLog(string region) => Path.Combine(Directory, region + ".dnsmasq.log");

    public string Leases(string region) => Path.Combine(Directory, region + ".leases");

    public string MetadataPid(string region) => Path.Combine(Directory, region + ".metadata.pid");

    public string MetadataReady(string region) => Path.Combine(Directory, region + ".metadata.ready");

    public string MetadataLog(string region) => Path.Combine(Directory, region + ".metadata.log");

    public string MetadataRequests(string region) => Path.Combine(Directory, region + ".metadata.requests");
}

/// <summary>What `lab up --instances vm` needs beyond the namespace lab.</summary>
public sealed record VmLabOptions
{
    /// <summary>The exact user data document `egress apply` sends for a host (HostUserData in the CLI); written for the
    /// metadata service gzip-compressed, as apply sends it (<see cref="UserDataWire"/>).</summary>
    public required Func<string, string> UserData { get; init; }

    /// <summary>`egress lab metadata --id ID --region REGION`, started inside the region's router namespace.</summary>
    public required Func<string, string, CommandSpec> MetadataCommand { get; init; }

    public int MemoryMiB { get; init; } = VmInstancePlanner.DefaultMemoryMiB;

    /// <summary>Like AWS, where an Elastic IP is associated only once the instance runs: the gateways' IGW 1:1 NAT starts
    /// this long after the VMs are launched. Null (the default): once every gateway's cloud-init has finished, so first
    /// boot runs without internet however fast or slow this machine boots. `up` returns after both.</summary>
    public TimeSpan? EipDelay { get; init; }

    /// <summary>How long `up` waits for every VM's cloud-init to finish (software emulation is slow).</summary>
    public TimeSpan BootTimeout { get; init; } = TimeSpan.FromMinutes(15);
}

/// <summary>Boots a lab's hosts as VMs: per VPC router a DHCP server (dnsmasq) and the IMDSv2 service, per host a
/// QEMU VM whose only NIC is a tap at the router's port (no user-mode networking, nothing in the root namespace).</summary>
public sealed partial class VmLab(ICommandRunner runner)
{
    public static bool KvmUsable => File.Exists("/dev/kvm") && CanOpen("/dev/kvm");

    /// <summary>Where KVM opened but did not run a guest (nested KVM that hangs): software emulation from then on. Shared
    /// with the full-kernel tier's eng/vm/vm.sh, which writes the same marker.</summary>
    public static string KvmHangsMarker => Path.Combine(VmImage.CacheRoot, "kvm-hangs");

    /// <summary>"kvm" when /dev/kvm opens and a KVM guest really runs (the image's kernel prints its first console line
    /// within 20 s), else "tcg". An openable /dev/kvm proves nothing: on these machines nested KVM opens, creates the VM
    /// and then never runs a guest instruction. A failed probe leaves <see cref="KvmHangsMarker"/>, so it costs its 20 s
    /// once; EGRESS_VM_NO_KVM=1 skips it.</summary>
    public async Task<string> AcceleratorAsync(VmImage image, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(progress);
        if (!KvmUsable || Environment.GetEnvironmentVariable("EGRESS_VM_NO_KVM") == "1" || File.Exists(KvmHangsMarker))
        {
            return "tcg";
        }

        var console = Path.Combine(Path.GetTempPath(), $"egress-kvm-probe-{Environment.ProcessId}.console");
        try
        {
            var probe = await runner.RunAsync(new CommandSpec("qemu-system-x86_64",
            [
                "-nodefaults", "-no-user-config", "-accel", "kvm", "-cpu", "max", "-m", "128", "-display", "none", "-no-reboot",
                "-kernel", image.Kernel, "-append", "console=ttyS0 panic=-1", "-serial", "file:" + console,
            ]) { Timeout = TimeSpan.FromSeconds(20) }, cancellationToken);
            if (File.Exists(console) && (await File.ReadAllTextAsync(console, cancellationToken)).Contains("Linux version", StringComparison.Ordinal))
            {
                return "kvm";
            }

            progress($"KVM: /dev/kvm opens but a guest did not run within 20 s (exit {probe.ExitCode}); software emulation from now on ({KvmHangsMarker})");
            Directory.CreateDirectory(VmImage.CacheRoot);
            await File.WriteAllTextAsync(KvmHangsMarker, $"the VM lab's probe found KVM hanging at {DateTimeOffset.UtcNow:O}\n", cancellationToken);
            return "tcg";
        }
        finally
        {
            File.Delete(console);
        }
    }

    private static bool CanOpen(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public async Task StartAsync(LabWorldPlan plan, LabStateDirectory state, VmLabOptions options, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(options);
        // `lab up` installed what was missing (LabPackages, the namespace lab's policy too); this guards other callers.
        if (LabPackages.Missing(LabInstances.Vm) is { Count: > 0 } missing)
        {
            throw new LabException(LabPackages.MissingMessage(LabInstances.Vm, missing));
        }

        var files = new VmFiles(state);
        Directory.CreateDirectory(files.Directory);
        var image = await VmImage.EnsureAsync(progress, cancellationToken);
        await File.WriteAllTextAsync(files.Image, image.Directory + "\n", cancellationToken);
        var instances = VmInstancePlanner.Plan(plan, options.MemoryMiB);
        await RunAsync(CommandSpec.Of("ssh-keygen", "-q", "-t", "ed25519", "-N", string.Empty, "-C", $"egress-lab-{plan.Id}", "-f", files.PrivateKey), cancellationToken);
        foreach (var instance in instances)
        {
            await File.WriteAllBytesAsync(files.UserData(instance.Host), UserDataWire.Encode(options.UserData(instance.Host)), cancellationToken);
        }

        foreach (var region in instances.GroupBy(i => i.Region))
        {
            await StartDnsmasqAsync(files, region.Key, plan.Resolvers.First(r => r.Region == region.Key).Address, [.. region], cancellationToken);
            await LabProcesses.StartAsync(runner, region.First().RouterNamespace, options.MetadataCommand(plan.Id, region.Key), files.MetadataLog(region.Key),
                files.MetadataReady(region.Key), files.MetadataPid(region.Key), $"the metadata service of {region.Key}", TimeSpan.FromSeconds(90), cancellationToken);
        }

        progress($"VPC services: DHCP (dnsmasq; DNS is the VPC resolver) and IMDSv2 at {LabWorldPlan.MetadataAddress} on {string.Join(", ", plan.Routers.Select(r => r.Namespace))}");
        var accel = await AcceleratorAsync(image, progress, cancellationToken);
        await File.WriteAllTextAsync(files.Accelerator, accel + "\n", cancellationToken);
        var delayed = instances.Where(i => i.Role == Egress.Core.Topology.HostRole.Gateway && i.PublicIp is not null).ToList();
        foreach (var router in delayed.GroupBy(i => i.RouterNamespace))
        {
            await RunAsync(new CommandSpec("ip", ["netns", "exec", router.Key, "nft", "-f", "-"]) { StandardInput = EipPendingTable([.. router]) }, cancellationToken);
        }

        if (delayed.Count > 0)
        {
            progress($"Elastic IPs of {string.Join(", ", delayed.Select(d => d.Host))}: associated {(options.EipDelay is { } delay ? $"{delay.TotalSeconds:0} s after launch" : "once their cloud-init finished")} (as on AWS, first boot runs without internet)");
        }

        var eipPending = delayed.Count > 0;
        foreach (var instance in instances)
        {
            await BootAsync(files, image, instance, state, accel, cancellationToken);
            progress($"{instance.Host}: VM {instance.InstanceId} booting ({accel}, {instance.MemoryMiB} MiB, tap {instance.Tap} in {instance.RouterNamespace}, mac {instance.Mac}); console {files.Console(instance.Host)}");
        }

        var clock = Stopwatch.StartNew();
        var pending = instances.ToList();
        while (pending.Count > 0 || eipPending)
        {
            if (eipPending && (options.EipDelay is { } delay ? clock.Elapsed >= delay : !delayed.Any(pending.Contains)))
            {
                foreach (var router in delayed.Select(d => d.RouterNamespace).Distinct())
                {
                    await RunAsync(CommandSpec.Of("ip", "netns", "exec", router, "nft", "delete", "table", "inet", EipPendingTableName), cancellationToken);
                }

                eipPending = false;
                await File.WriteAllTextAsync(Path.Combine(files.Directory, "eip-associated"), $"{clock.Elapsed.TotalSeconds:0.0}\n", cancellationToken);
                progress($"Elastic IPs associated {clock.Elapsed.TotalSeconds:0} s after launch ({string.Join(", ", delayed.Select(d => $"{d.Host} {d.PublicIp}"))}); still booting: {(pending.Count == 0 ? "none" : string.Join(", ", pending.Select(p => p.Host)))}");
            }

            foreach (var instance in pending.ToList())
            {
                var console = ReadConsole(files, instance.Host);
                if (CloudInitFinished(console))
                {
                    pending.Remove(instance);
                    await File.WriteAllTextAsync(Path.Combine(files.Directory, instance.Host + ".first-boot"), $"{clock.Elapsed.TotalSeconds:0.0} {(eipPending ? "before" : "after")}-eip\n", cancellationToken);
                    progress($"{instance.Host}: cloud-init finished {clock.Elapsed.TotalSeconds:0} s after launch{(eipPending && delayed.Any(d => d.Host == instance.Host) ? ", its Elastic IP not yet associated" : string.Empty)} ({ConsoleHostKeyCount(console)} host key fingerprints on the console)");
                }
                else if (TryReadPid(files.Pid(instance.Host)) is not { } pid || !Directory.Exists($"/proc/{pid}"))
                {
                    throw new LabUpFailedException($"the VM of {instance.Host} stopped during boot; console tail:\n{Tail(console)}");
                }
            }

            if (pending.Count == 0 && !eipPending)
            {
                break;
            }

            if (pending.Count > 0 && clock.Elapsed > options.BootTimeout)
            {
                throw new LabUpFailedException($"cloud-init did not finish within {options.BootTimeout.TotalMinutes:0} min on {string.Join(", ", pending.Select(p => p.Host))}; console tail of {pending[0].Host}:\n{Tail(ReadConsole(files, pending[0].Host))}");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    private async Task StartDnsmasqAsync(VmFiles files, string region, Ipv4Address resolver, IReadOnlyList<VmInstance> instances, CancellationToken cancellationToken)
    {
        var ns = instances[0].RouterNamespace;
        var args = new List<string>
        {
            // DHCP only (--port=0): names are the VPC resolver's (base + 2), which the lab runs for every lab. The options
            // are EC2's default DHCP options set: AmazonProvidedDNS and the region's compute.internal domain, so
            // resolv.conf gets "search REGION.compute.internal" and the instance's own name (ip-10-0-1-10) resolves.
            "netns", "exec", ns, "dnsmasq", "--conf-file=/dev/null", "--user=root", "--port=0", "--no-resolv", "--no-hosts",
            "--dhcp-option=option:dns-server," + resolver, "--dhcp-option=option:domain-name," + region + ".compute.internal",
            "--bind-interfaces", "--except-interface=lo",
            "--pid-file=" + files.DnsmasqPid(region), "--dhcp-leasefile=" + files.Leases(region),
            "--log-facility=" + files.DnsmasqLog(region), "--log-dhcp", "--dhcp-authoritative",
        };
        foreach (var instance in instances)
        {
            args.Add("--interface=" + instance.Tap);
            args.Add("--dhcp-host=" + instance.Mac + "," + instance.PrivateIp + "," + instance.LocalHostname + ",infinite");
        }

        foreach (var subnet in instances.Select(i => i.Subnet).Distinct())
        {
            args.Add(string.Create(CultureInfo.InvariantCulture, $"--dhcp-range={subnet.Network},static,{new Ipv4Address(subnet.Mask)},infinite"));
        }

        await RunAsync(new CommandSpec("ip", args), cancellationToken);
    }

    public const string EipPendingTableName = "egress_lab_eip_pending";

    /// <summary>Until the Elastic IP is associated, nothing crosses the IGW to or from the gateway (its 1:1 NAT is not yet there).</summary>
    public static string EipPendingTable(IReadOnlyList<VmInstance> gateways)
    {
        ArgumentNullException.ThrowIfNull(gateways);
        var addresses = string.Join(", ", gateways.Select(g => g.PrivateIp));
        return $"table inet {EipPendingTableName} {{\n" +
               "  chain forward {\n    type filter hook forward priority -300; policy accept;\n" +
               $"    oifname \"{LabWorldPlanner.RouterWan}\" ip saddr {{ {addresses} }} drop\n" +
               $"    iifname \"{LabWorldPlanner.RouterWan}\" ip daddr {{ {addresses} }} drop\n" +
               "  }\n}\n";
    }

    /// <summary>A graceful reboot (`lab reboot HOST`): Ctrl-Alt-Del through the QEMU monitor, which systemd turns into
    /// `systemctl reboot` (what EC2's RebootInstances asks of the guest through ACPI).</summary>
    public static async Task RebootAsync(VmFiles files, string host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (TryReadPid(files.Pid(host)) is not { } pid || !IsQemuOf(pid, files))
        {
            throw new LabException($"the VM of {host} is not running (powered off by 'lab fail'? 'lab heal {host}' boots it).");
        }

        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(files.Monitor(host)), cancellationToken);
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes("sendkey ctrl-alt-delete\n"), cancellationToken);
        await Task.Delay(500, cancellationToken);
    }

    /// <summary>QEMU's arguments for <paramref name="instance"/> (pure, for tests and docs).</summary>
    public static IReadOnlyList<string> QemuArguments(VmFiles files, VmImage image, VmInstance instance, string caPem, string accel)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(instance);
        return
        [
            "-name", $"egress-{instance.Host},process=egress-vm-{instance.Host}",
            "-nodefaults", "-no-user-config", "-machine", "pc", "-accel", accel, "-cpu", "max", "-smp", "1",
            "-m", instance.MemoryMiB.ToString(CultureInfo.InvariantCulture), "-display", "none",
            "-chardev", $"file,id=console,path={files.Console(instance.Host)},append=on", "-serial", "chardev:console",
            "-monitor", $"unix:{files.Monitor(instance.Host)},server=on,wait=off",
            "-kernel", image.Kernel, "-initrd", image.Initrd,
            // The lab CA for the image's egress-lab-ca.service (eng/vm), as base64 DER: the VM trusts the lab's HTTPS services.
            // The topology's link delays, emulated inside the VM by the image's egress-lab-delay.service (netem on eth0).
            "-append", $"root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1{DelayParameter(instance)} egress.lab_ca={CaParameter(caPem)}",
            "-drive", $"file={files.Disk(instance.Host)},if=virtio,format=qcow2,cache=unsafe",
            // The only NIC: a tap at the router's port. No -nic user, no bridge.
            "-netdev", $"tap,id=nic0,ifname={instance.Tap},script=no,downscript=no",
            "-device", $"virtio-net-pci,netdev=nic0,mac={instance.Mac}",
            "-device", "virtio-rng-pci",
            "-smbios", $"type=1,manufacturer=Amazon EC2,product={instance.InstanceType},serial={instance.SmbiosUuid},uuid={instance.SmbiosUuid}",
            "-pidfile", files.Pid(instance.Host), "-daemonize",
        ];
    }

    /// <summary>" egress.lab_delay=CIDR@MS,..." for a VM with delays to emulate, else empty.</summary>
    public static string DelayParameter(VmInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return instance.Delays.Count == 0 ? string.Empty : " egress.lab_delay=" + string.Join(',', instance.Delays);
    }

    /// <summary>A PEM certificate's base64 body on one line (what egress.lab_ca= carries).</summary>
    public static string CaParameter(string caPem)
    {
        ArgumentNullException.ThrowIfNull(caPem);
        return string.Concat(caPem.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)));
    }

    private async Task BootAsync(VmFiles files, VmImage image, VmInstance instance, LabStateDirectory state, string accel, CancellationToken cancellationToken)
    {
        if (!File.Exists(files.Disk(instance.Host)))
        {
            await RunAsync(CommandSpec.Of("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image.RootDisk, files.Disk(instance.Host)), cancellationToken);
        }

        await RunAsync(new CommandSpec("ip", ["netns", "exec", instance.RouterNamespace, "qemu-system-x86_64", .. QemuArguments(files, image, instance, await File.ReadAllTextAsync(state.CaCertificate, cancellationToken), accel)])
        {
            Timeout = TimeSpan.FromMinutes(1),
        }, cancellationToken);
    }

    /// <summary>Powers a VM off hard (`lab fail`): QEMU is killed, as an instance whose hardware died.</summary>
    public static bool PowerOff(VmFiles files, string host)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (TryReadPid(files.Pid(host)) is not { } pid || !IsQemuOf(pid, files))
        {
            return false;
        }

        using var process = Process.GetProcessById(pid);
        process.Kill();
        process.WaitForExit(10_000);
        return true;
    }

    /// <summary>Boots a powered-off VM of a running lab again from its disk (`lab heal`).</summary>
    public async Task PowerOnAsync(RunningLab lab, string host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var files = new VmFiles(lab.State);
        if (TryReadPid(files.Pid(host)) is { } pid && IsQemuOf(pid, files))
        {
            return;
        }

        var image = new VmImage((await File.ReadAllTextAsync(files.Image, cancellationToken)).Trim());
        var instance = VmInstancePlanner.Plan(lab.Plan).First(i => i.Host == host);
        await BootAsync(files, image, instance, lab.State, Accelerator(files), cancellationToken);
    }

    /// <summary>The accelerator `up` chose for this lab's VMs ("kvm" or "tcg").</summary>
    public static string Accelerator(VmFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return File.Exists(files.Accelerator) ? File.ReadAllText(files.Accelerator).Trim() : "tcg";
    }

    private static bool IsQemuOf(int pid, VmFiles files)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(files.Directory + "/", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static string ReadConsole(VmFiles files, string host)
    {
        ArgumentNullException.ThrowIfNull(files);
        try
        {
            using var stream = new FileStream(files.Console(host), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return string.Empty;
        }
    }

    /// <summary>cloud-init's last line of a boot on the console: "Cloud-init v. 22.4.2 finished at ...".</summary>
    public static bool CloudInitFinished(string console) => FinishedLine().IsMatch(console ?? string.Empty);

    /// <summary>How many times cloud-init finished a boot on this console (one per boot).</summary>
    public static int BootsFinished(string console) => FinishedLine().Matches(console ?? string.Empty).Count;

    private static int ConsoleHostKeyCount(string console)
    {
        var begin = console.LastIndexOf("-----BEGIN SSH HOST KEY FINGERPRINTS-----", StringComparison.Ordinal);
        var end = begin < 0 ? -1 : console.IndexOf("-----END SSH HOST KEY FINGERPRINTS-----", begin, StringComparison.Ordinal);
        return begin < 0 || end < 0 ? 0 : console[begin..end].Split('\n').Count(l => l.Contains("SHA256:", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"Cloud-init v\. \S+ finished at")]
    private static partial Regex FinishedLine();

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(25));

    internal static int? TryReadPid(string path) => LabController.TryReadPid(path);

    private async Task<CommandResult> RunAsync(CommandSpec spec, CancellationToken cancellationToken) =>
        (await runner.RunAsync(spec, cancellationToken)).EnsureSuccess(spec);
}
