using System.IO.Compression;
using System.Text;
using Egress.Core.Topology;
using Egress.Host.Rendering;
using YamlDotNet.RepresentationModel;

namespace Egress.Host.Tests;

public sealed class CloudInitTests
{
    public static TheoryData<string, string, OverlayMode> Hosts()
    {
        var data = new TheoryData<string, string, OverlayMode>();
        foreach (var example in Examples.Names)
        {
            foreach (var host in Examples.Load(example).Hosts)
            {
                foreach (var mode in Topologies.ConcreteModes)
                {
                    data.Add(example, host.Name, mode);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Hosts))]
    public void Render_CloudInit_FitsEc2UserDataLimit(string example, string host, OverlayMode mode)
    {
        var text = HostRenderer.Render(Topologies.WithMode(Examples.Load(example), mode), host, RenderFormat.CloudInit);
        var bytes = Core.UserDataWire.Encode(text).Length;

        Assert.True(bytes < HostScript.UserDataLimit, $"{example}/{host} ({mode}): cloud-init is {bytes} bytes gzip-compressed; EC2 allows {HostScript.UserDataLimit}.");
    }

    [Fact]
    public void Render_CloudInitOverTheLimit_ThrowsSayingTheSize()
    {
        var seed = Topologies.Seed();
        var singapore = seed.Regions[0];
        var clients = Enumerable.Range(0, 1000).Select(i => singapore.Hosts[0] with
        {
            Name = $"client-{i}",
            PrivateIp = Core.Net.Ipv4Address.Parse($"10.0.{1 + (i / 200)}.{20 + (i % 200)}"),
        }).ToList();
        var crowded = seed with
        {
            Regions = [singapore with { Hosts = clients }, seed.Regions[1]],
            Overlay = seed.Overlay with { Pool = Core.Net.Ipv4Cidr.Parse("192.168.240.0/20") },
        };

        var ex = Assert.Throws<ArgumentException>(() => HostRenderer.Render(crowded, "tokyo-nat", RenderFormat.CloudInit));

        Assert.Contains("EC2 allows 16384", ex.Message, StringComparison.Ordinal);
        Assert.NotEmpty(HostRenderer.Render(crowded, "tokyo-nat", RenderFormat.Script)); // the script itself has no limit
    }

    [Fact]
    public void Render_CloudInit_InstallsPackagesWritesScriptAndUnitAndStartsIt()
    {
        var topology = Topologies.Seed();
        var text = HostRenderer.Render(topology, "sg-client", RenderFormat.CloudInit);
        Assert.StartsWith("#cloud-config\n", text, StringComparison.Ordinal);

        var yaml = new YamlStream();
        yaml.Load(new StringReader(text));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var packages = ((YamlSequenceNode)root["packages"]).Select(n => n.ToString());
        Assert.Equal(["iproute2", "nftables", "curl", "mtr-tiny", "dnsmasq-base"], packages);
        var files = ((YamlSequenceNode)root["write_files"]).Cast<YamlMappingNode>().ToDictionary(f => f["path"].ToString(), f => f);
        var script = files[HostScript.InstalledPath];
        Assert.False(script.Children.ContainsKey("encoding")); // plain: the whole document is gzip-compressed on the wire
        Assert.Equal(HostRenderer.Render(topology, "sg-client", RenderFormat.Script), script["content"].ToString());
        Assert.Equal("0755", files[HostScript.InstalledPath]["permissions"].ToString());
        var unit = files[HostScript.UnitPath]["content"].ToString();
        var watch = files[HostScript.WatchUnitPath]["content"].ToString();
        Assert.Equal(HostRenderer.RenderWatchUnit(topology, "sg-client"), watch);
        // `render --format systemd` prints the same two units, each after a comment naming its path.
        Assert.Equal($"# {HostScript.UnitPath}\n{unit}\n# {HostScript.WatchUnitPath}\n{watch}", HostRenderer.Render(topology, "sg-client", RenderFormat.Systemd));
        Assert.Contains($"ExecStart=/bin/sh {HostScript.InstalledPath} watch\nRestart=always\n", watch, StringComparison.Ordinal);
        Assert.Contains($"BindsTo={HostScript.UnitName}\n", watch, StringComparison.Ordinal);
        var runcmd = ((YamlSequenceNode)root["runcmd"]).Cast<YamlSequenceNode>().Select(c => string.Join(' ', c.Select(n => n.ToString()))).ToList();
        Assert.Equal(["systemctl daemon-reload", "systemctl enable --now egress-host.service", "systemctl enable --now egress-host-watch.service"], runcmd);
    }

    [Fact]
    public void Render_GatewayCloudInit_HasNoWatcherAndInstallsDnsmasqOnlyForItsForwarder()
    {
        var text = HostRenderer.Render(Topologies.Seed(), "tokyo-nat", RenderFormat.CloudInit);
        var local = Topologies.Seed() with { Dns = new DnsSettings { ResolveVia = DnsResolveVia.Local } };
        var without = HostRenderer.Render(local, "tokyo-nat", RenderFormat.CloudInit);

        // The document is plain text; what must fit 16 KB is its gzip form (UserDataWire), as apply sends it.
        Assert.Contains(HostRenderer.Render(Topologies.Seed(), "tokyo-nat", RenderFormat.Script).Split('\n')[1], text, StringComparison.Ordinal);
        Assert.Contains("  - dnsmasq-base\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain(HostScript.WatchUnitName, text, StringComparison.Ordinal);
        Assert.DoesNotContain("  - dnsmasq-base\n", without, StringComparison.Ordinal);
        Assert.True(Core.UserDataWire.Encode(text).Length <= HostScript.UserDataLimit);
    }

    [Fact]
    public void UserDataWire_IsTheDocumentGzipCompressed_DeterministicAndAboutAThird()
    {
        var text = HostRenderer.Render(Topologies.Seed(), "sg-client", RenderFormat.CloudInit);

        var wire = Core.UserDataWire.Encode(text);

        Assert.Equal([0x1f, 0x8b], wire[..2]); // gzip's magic: cloud-init un-gzips user data that starts with it
        Assert.Equal(wire, Core.UserDataWire.Encode(text)); // same document, same bytes (no timestamp)
        using var input = new GZipStream(new MemoryStream(wire), CompressionMode.Decompress);
        using var reader = new StreamReader(input, Encoding.UTF8);
        Assert.Equal(text, reader.ReadToEnd());
        Assert.True(wire.Length * 2 < Encoding.UTF8.GetByteCount(text), $"{wire.Length} of {Encoding.UTF8.GetByteCount(text)} bytes");
    }

    [Fact]
    public void Render_SystemdClient_PrintsTheWatcherUnitRestartedAlwaysAfterApply()
    {
        var units = HostRenderer.Render(Topologies.Seed(), "sg-client", RenderFormat.Systemd);
        var watch = units[units.IndexOf($"# {HostScript.WatchUnitPath}\n", StringComparison.Ordinal)..];

        Assert.StartsWith($"# {HostScript.UnitPath}\n[Unit]\n", units, StringComparison.Ordinal);
        Assert.Contains($"ExecStart=/bin/sh {HostScript.InstalledPath} watch\nRestart=always\nRestartSec=1\n", watch, StringComparison.Ordinal);
        Assert.Contains($"After={HostScript.UnitName}\nBindsTo={HostScript.UnitName}\nStartLimitIntervalSec=0\n", watch, StringComparison.Ordinal);
        Assert.DoesNotContain(HostScript.WatchUnitName, HostRenderer.Render(Topologies.Seed(), "tokyo-nat", RenderFormat.Systemd), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Systemd_OneshotAfterNetworkOnlineApplyAndDown()
    {
        var unit = HostRenderer.Render(Topologies.Seed(), "tokyo-nat", RenderFormat.Systemd);

        Assert.Contains("After=network-online.target\n", unit, StringComparison.Ordinal);
        Assert.Contains("Wants=network-online.target\n", unit, StringComparison.Ordinal);
        Assert.Contains("Type=oneshot\nRemainAfterExit=yes\n", unit, StringComparison.Ordinal);
        Assert.Contains($"ExecStart=/bin/sh {HostScript.InstalledPath} apply\n", unit, StringComparison.Ordinal);
        Assert.Contains($"ExecStop=/bin/sh {HostScript.InstalledPath} down\n", unit, StringComparison.Ordinal);
        Assert.Contains("WantedBy=multi-user.target\n", unit, StringComparison.Ordinal);
    }
}
