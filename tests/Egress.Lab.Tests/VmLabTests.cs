using System.Collections.Concurrent;
using System.Text;
using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Lab.Vm;
using Egress.Lab.World;

namespace Egress.Lab.Tests;

/// <summary>The VM lab's pure parts: the world without host namespaces, the instances' EC2 identities, QEMU's
/// arguments (one NIC, a tap; no user-mode network) and the IMDSv2 answers.</summary>
public sealed class VmLabTests
{
    private static readonly TopologyModel Seed = Examples.Load(Examples.Seed);

    private static LabWorldPlan VmPlan() => LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Ipip, instances: LabInstances.Vm);

    [Fact]
    public void Plan_Vm_HasNoHostNamespacesAndATapAtEachHostPort()
    {
        var plan = VmPlan();

        Assert.DoesNotContain(plan.Namespaces, n => n.Role == LabNamespaceRole.Host);
        Assert.DoesNotContain(plan.Veths, v => v.InterfaceA == LabWorldPlanner.HostUplink || v.InterfaceB == LabWorldPlanner.HostUplink);
        var router = plan.NamespaceNamed(plan.RouterOf("ap-northeast-1").Namespace);
        var port = LabWorldPlanner.HostPort(Seed, "tokyo-nat");
        Assert.Contains($"tuntap add dev {port} mode tap", router.IpBatch);
        Assert.Contains($"addr add 10.1.1.1/24 dev {port} noprefixroute", router.IpBatch);
        Assert.Contains($"route add 10.1.1.10/32 dev {port}", router.IpBatch);
    }

    [Fact]
    public void Plan_Vm_SecurityGroupsLetTheLabInternetSsh_NamespacePlanDoesNot()
    {
        var vm = VmPlan().NamespaceNamed(VmPlan().RouterOf("ap-northeast-1").Namespace).Nftables!;
        var ns = LabWorldPlanner.Plan(Seed, "seed", OverlayMode.Ipip).NamespaceNamed(VmPlan().RouterOf("ap-northeast-1").Namespace).Nftables!;

        Assert.Contains($"ip saddr {LabWorldPlanner.InternetAddress}/32 tcp dport 22 accept", vm, StringComparison.Ordinal);
        Assert.DoesNotContain("tcp dport 22 accept", ns, StringComparison.Ordinal);
    }

    [Fact]
    public void Instances_HaveEc2IdentitiesStableAcrossPlans()
    {
        var first = VmInstancePlanner.Plan(VmPlan());
        var again = VmInstancePlanner.Plan(VmPlan());
        var other = VmInstancePlanner.Plan(LabWorldPlanner.Plan(Seed, "other", OverlayMode.Ipip, instances: LabInstances.Vm));

        Assert.Equal(first.Select(i => i with { Delays = [] }), again.Select(i => i with { Delays = [] })); // a list compares by reference
        Assert.Equal(first.Select(i => VmLab.DelayParameter(i)), again.Select(i => VmLab.DelayParameter(i)));
        Assert.All(first, i =>
        {
            Assert.Matches("^i-0[0-9a-f]{16}$", i.InstanceId);
            Assert.Matches("^ec2[0-9a-f]{5}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", i.SmbiosUuid);
            Assert.Matches("^02(:[0-9a-f]{2}){5}$", i.Mac);
        });
        Assert.NotEqual(first[0].InstanceId, first[1].InstanceId);
        Assert.NotEqual(first[0].Mac, other[0].Mac);
        var gateway = first.Single(i => i.Host == "tokyo-nat");
        Assert.Equal("ip-10-1-1-10", gateway.LocalHostname);
        Assert.Equal("ap-northeast-1a", gateway.AvailabilityZone);
        Assert.Equal("t3.micro", gateway.InstanceType);
    }

    [Fact]
    public void QemuArguments_OneNicATapNoUserNetworkAndEc2Smbios()
    {
        var instance = VmInstancePlanner.Plan(VmPlan())[0];
        var files = new VmFiles(new LabStateDirectory("seed"));
        var args = VmLab.QemuArguments(files, new VmImage("/img"), instance, "-----BEGIN CERTIFICATE-----\nMIIB\nxyz=\n-----END CERTIFICATE-----\n", "tcg");
        var line = string.Join(' ', args);

        Assert.Contains("-nodefaults", args);
        Assert.Single(args, a => a == "-netdev");
        Assert.Contains($"tap,id=nic0,ifname={instance.Tap},script=no,downscript=no", args);
        Assert.DoesNotContain("user", line.Replace("-no-user-config", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("bridge", line, StringComparison.Ordinal);
        Assert.EndsWith(" egress.lab_ca=MIIBxyz=", args[args.ToList().IndexOf("-append") + 1], StringComparison.Ordinal);
        Assert.Contains($"type=1,manufacturer=Amazon EC2,product={instance.InstanceType},serial={instance.SmbiosUuid},uuid={instance.SmbiosUuid}", args);
    }

    [Fact]
    public void Delays_EachVmDelaysWhatItSends_HalfTowardAPeeredVpc_AllTowardTheInternet_NothingLocal()
    {
        var instances = VmInstancePlanner.Plan(VmPlan());
        var client = instances.Single(i => i.Host == "sg-client");
        var gateway = instances.Single(i => i.Host == "tokyo-nat");

        // seed: Singapore-Tokyo 70 ms, Tokyo-internet 2 ms, Singapore-internet 70 ms. The client's tunnel packets go to
        // 10.1.1.10 (35 ms) and the gateway's replies to 10.0.1.10 (35 ms): 70 ms, plus 2 ms to the internet through Tokyo.
        // The geo name's edges: Singapore's (192.0.2.241) near Singapore, Tokyo's (192.0.2.242) near Tokyo, as near as the
        // nearest region is to the internet (2 ms) and as far as the other region (70 ms).
        Assert.Equal(["10.0.0.0/16@0", "169.254.0.0/16@0", "10.1.0.0/16@35", "192.0.2.241/32@2", "192.0.2.242/32@70", "0.0.0.0/0@70"], client.Delays.Select(d => d.ToString()));
        Assert.Equal(["10.1.0.0/16@0", "169.254.0.0/16@0", "10.0.0.0/16@35", "192.0.2.241/32@70", "192.0.2.242/32@2", "0.0.0.0/0@2"], gateway.Delays.Select(d => d.ToString()));
        Assert.Equal(" egress.lab_delay=10.0.0.0/16@0,169.254.0.0/16@0,10.1.0.0/16@35,192.0.2.241/32@2,192.0.2.242/32@70,0.0.0.0/0@70", VmLab.DelayParameter(client));
        var args = VmLab.QemuArguments(new VmFiles(new LabStateDirectory("seed")), new VmImage("/img"), client, "x", "tcg");
        Assert.Contains(" egress.lab_delay=10.0.0.0/16@0,", args[args.ToList().IndexOf("-append") + 1], StringComparison.Ordinal);
    }

    [Fact]
    public void Delays_NoneWithoutLatency_AndNoKernelParameter()
    {
        var flat = Seed with { Lab = new LabSettings() };
        var instance = VmInstancePlanner.Plan(LabWorldPlanner.Plan(flat, "flat", OverlayMode.Ipip, instances: LabInstances.Vm))[0];

        Assert.Empty(instance.Delays);
        Assert.Equal(string.Empty, VmLab.DelayParameter(instance));
        Assert.DoesNotContain("egress.lab_delay", string.Join(' ', VmLab.QemuArguments(new VmFiles(new LabStateDirectory("flat")), new VmImage("/img"), instance, "x", "tcg")), StringComparison.Ordinal);
    }

    [Fact]
    public void Delays_ThreeRegion_EveryOtherVpcListedBeforeTheInternet()
    {
        var topology = Examples.Load(Examples.ThreeRegion);
        var plan = LabWorldPlanner.Plan(topology, "three", OverlayMode.Ipip, instances: LabInstances.Vm);
        foreach (var instance in VmInstancePlanner.Plan(plan))
        {
            Assert.Equal(plan.Routers.Count + plan.Edges.Count + 2, instance.Delays.Count);
            Assert.Equal("0.0.0.0/0", instance.Delays[^1].Destination.ToString());
            Assert.Equal(plan.RouterOf(instance.Region).Vpc, instance.Delays[0].Destination);
            Assert.Equal(0, instance.Delays[0].DelayMs);
        }

        // No latency entry between Singapore and Sydney: Sydney's edge is as far from sg-client as any internet address
        // (Singapore-internet, 70 ms), not 0 ms, which would make it nearer than the client's own region's edge.
        var client = VmInstancePlanner.Plan(plan).Single(i => i.Host == "sg-client");
        var sydneyEdge = new Ipv4Cidr(plan.Edges.Single(e => e.Region == "ap-southeast-2").Address, 32);
        Assert.Equal(LabLatency.RoundTrip(topology, "ap-southeast-1", LinkLatency.Internet), client.Delays.Single(d => d.Destination == sydneyEdge).DelayMs);
        Assert.Equal(70, client.Delays.Single(d => d.Destination == sydneyEdge).DelayMs);
    }

    private static (ConcurrentDictionary<string, (string Ip, DateTimeOffset Expires)> Tokens, Dictionary<string, InstanceMetadata> ByIp, ManualTime Time) Imds()
    {
        var instances = VmInstancePlanner.Plan(VmPlan());
        var byIp = instances.ToDictionary(i => i.PrivateIp.ToString(), i => new InstanceMetadata(i, "ssh-ed25519 AAAA lab", Encoding.UTF8.GetBytes("#cloud-config\n" + i.Host + "\n")));
        return (new(), byIp, new ManualTime());
    }

    private static (int Status, string Body) Ask((ConcurrentDictionary<string, (string Ip, DateTimeOffset Expires)> Tokens, Dictionary<string, InstanceMetadata> ByIp, ManualTime Time) imds,
        string method, string path, string client, string token = "", string ttl = "")
    {
        var (status, body) = InstanceMetadataService.Answer(method, path, ttl, token, client, imds.ByIp, imds.Tokens, imds.Time);
        return (status, body is null ? string.Empty : Encoding.UTF8.GetString(body));
    }

    [Fact]
    public void Imds_V1RequestsAreRefused_V2TokenOpensTheTree()
    {
        var imds = Imds();

        Assert.Equal(401, Ask(imds, "GET", "/latest/meta-data/instance-id", "10.1.1.10").Status);
        Assert.Equal(400, Ask(imds, "PUT", "/latest/api/token", "10.1.1.10").Status);
        var token = Ask(imds, "PUT", "/latest/api/token", "10.1.1.10", ttl: "21600").Body;

        Assert.Equal((200, imds.ByIp["10.1.1.10"].Instance.InstanceId), Ask(imds, "GET", "/2021-03-23/meta-data/instance-id", "10.1.1.10", token));
        Assert.Equal((200, "10.1.1.10"), Ask(imds, "GET", "/latest/meta-data/local-ipv4", "10.1.1.10", token));
        Assert.Equal((200, "ap-northeast-1a"), Ask(imds, "GET", "/latest/meta-data/placement/availability-zone", "10.1.1.10", token));
        Assert.Equal((200, "0=egress-lab"), Ask(imds, "GET", "/latest/meta-data/public-keys/", "10.1.1.10", token));
        Assert.Equal((200, "ssh-ed25519 AAAA lab\n"), Ask(imds, "GET", "/latest/meta-data/public-keys/0/openssh-key", "10.1.1.10", token));
        Assert.Equal((200, "#cloud-config\ntokyo-nat\n"), Ask(imds, "GET", "/latest/user-data", "10.1.1.10", token));
        Assert.Contains("placement/", Ask(imds, "GET", "/latest/meta-data/", "10.1.1.10", token).Body, StringComparison.Ordinal);
        Assert.Contains("\"region\":\"ap-northeast-1\"", Ask(imds, "GET", "/latest/dynamic/instance-identity/document", "10.1.1.10", token).Body, StringComparison.Ordinal);
    }

    [Fact]
    public void Imds_TokenIsBoundToItsInstanceAndExpires()
    {
        var imds = Imds();
        var token = Ask(imds, "PUT", "/latest/api/token", "10.1.1.10", ttl: "60").Body;

        Assert.Equal(401, Ask(imds, "GET", "/latest/meta-data/instance-id", "10.0.1.10", token).Status);
        Assert.Equal(403, Ask(imds, "GET", "/latest/meta-data/instance-id", "10.9.9.9", token).Status);
        imds.Time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(401, Ask(imds, "GET", "/latest/meta-data/instance-id", "10.1.1.10", token).Status);
    }
}

internal sealed class ManualTime : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>The image has no apt sources, so cloud-init's package step can only succeed when the image already holds
/// every package the user data lists: a host step that needs a new package must add it to eng/vm/image.sh too.</summary>
public sealed class VmImageRecipeTests
{
    [Fact]
    public void Image_HoldsEveryPackageTheUserDataOfAnyExampleHostInstalls()
    {
        var recipe = typeof(VmImage).Assembly.GetManifestResourceStream("vm/image.sh") ?? throw new InvalidOperationException("vm/image.sh is not embedded");
        var text = new StreamReader(recipe).ReadToEnd();
        var list = text[(text.IndexOf("packages=(", StringComparison.Ordinal) + "packages=(".Length)..];
        var imagePackages = list[..list.IndexOf(')', StringComparison.Ordinal)].Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).ToHashSet();

        var checkedHosts = 0;
        foreach (var name in Examples.Names)
        {
            foreach (var via in new[] { DnsResolveVia.Gateway, DnsResolveVia.Local })
            {
                var topology = Examples.Load(name) with { Dns = new DnsSettings { ResolveVia = via } };
                foreach (var host in topology.Hosts)
                {
                    var missing = Egress.Host.Rendering.HostScript.PackagesFor(Egress.Host.Plan.HostPlanner.Build(topology, host.Name)).Where(p => !imagePackages.Contains(p)).ToList();
                    Assert.True(missing.Count == 0, $"{name} {host.Name} (dns {via}): the user data installs {string.Join(", ", missing)}, which eng/vm/image.sh lacks");
                    checkedHosts++;
                }
            }
        }

        Assert.True(checkedHosts >= 6);
        Assert.Contains("dnsmasq-base", imagePackages);
    }
}

/// <summary>The image's egress-lab-delay (embedded, as the image gets it) run by sh with `tc` on PATH replaced by a
/// recorder: the qdiscs and filters it asks the VM's kernel for.</summary>
public sealed class VmDelayScriptTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("egress-delay-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<string[]> RunAsync(string cmdline, string mode = "on")
    {
        var script = Path.Combine(_directory, "egress-lab-delay");
        await using (var resource = typeof(VmImage).Assembly.GetManifestResourceStream("vm/egress-lab-delay") ?? throw new InvalidOperationException("not embedded"))
        await using (var file = File.Create(script))
        {
            await resource.CopyToAsync(file);
        }

        var bin = Directory.CreateDirectory(Path.Combine(_directory, "bin")).FullName;
        await File.WriteAllTextAsync(Path.Combine(bin, "tc"), "#!/bin/sh\necho \"tc $*\" >> \"$TC_LOG\"\n");
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(Path.Combine(bin, "tc"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        await File.WriteAllTextAsync(Path.Combine(_directory, "cmdline"), cmdline + "\n");
        var log = Path.Combine(_directory, "tc.log");
        File.Delete(log);
        var result = await Egress.Processes.ProcessRunner.Instance.RunAsync(new Egress.Processes.CommandSpec("sh", [script, mode])
        {
            Environment = new Dictionary<string, string>
            {
                ["PATH"] = bin + ":/usr/bin:/bin",
                ["TC_LOG"] = log,
                ["EGRESS_LAB_CMDLINE"] = Path.Combine(_directory, "cmdline"),
            },
        });
        Assert.True(result.Succeeded, result.StandardError);
        return File.Exists(log) ? await File.ReadAllLinesAsync(log) : [];
    }

    [Fact]
    public async Task On_OneNetemBandPerDistinctDelay_FiltersInTheLabsOrder()
    {
        var client = VmInstancePlanner.Plan(LabWorldPlanner.Plan(Examples.Load(Examples.Seed), "seed", OverlayMode.Ipip, instances: LabInstances.Vm)).Single(i => i.Host == "sg-client");

        var tc = await RunAsync("root=/dev/vda rw console=ttyS0" + VmLab.DelayParameter(client) + " egress.lab_ca=MIIB");

        Assert.Equal(
        [
            "tc qdisc del dev eth0 root",
            "tc qdisc add dev eth0 root handle 1: prio bands 4 priomap 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
            "tc qdisc add dev eth0 parent 1:2 handle 20: netem delay 2ms limit 10000",
            "tc qdisc add dev eth0 parent 1:3 handle 30: netem delay 35ms limit 10000",
            "tc qdisc add dev eth0 parent 1:4 handle 40: netem delay 70ms limit 10000",
            "tc filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.0.0.0/16 flowid 1:1",
            "tc filter add dev eth0 parent 1: protocol ip prio 2 u32 match ip dst 169.254.0.0/16 flowid 1:1",
            "tc filter add dev eth0 parent 1: protocol ip prio 3 u32 match ip dst 10.1.0.0/16 flowid 1:3",
            "tc filter add dev eth0 parent 1: protocol ip prio 4 u32 match ip dst 192.0.2.241/32 flowid 1:2",
            "tc filter add dev eth0 parent 1: protocol ip prio 5 u32 match ip dst 192.0.2.242/32 flowid 1:4",
            "tc filter add dev eth0 parent 1: protocol ip prio 6 u32 match ip dst 0.0.0.0/0 flowid 1:4",
        ], tc);
    }

    [Fact]
    public async Task Off_RemovesTheRootQdiscOnly_NoParameter_DoesNothing()
    {
        Assert.Equal(["tc qdisc del dev eth0 root"], await RunAsync("root=/dev/vda egress.lab_delay=0.0.0.0/0@70", "off"));
        Assert.Empty(await RunAsync("root=/dev/vda console=ttyS0"));
    }
}
