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
        var bytes = Encoding.UTF8.GetByteCount(text);

        Assert.True(bytes < HostScript.UserDataLimit, $"{example}/{host} ({mode}): cloud-init is {bytes} bytes; EC2 allows {HostScript.UserDataLimit}.");
    }

    [Fact]
    public void Render_CloudInitOverTheLimit_ThrowsSayingTheSize()
    {
        var seed = Topologies.Seed();
        var singapore = seed.Regions[0];
        var clients = Enumerable.Range(0, 12).Select(i => singapore.Hosts[0] with
        {
            Name = $"client-{i}",
            PrivateIp = Core.Net.Ipv4Address.Parse($"10.0.1.{20 + i}"),
        }).ToList();
        var crowded = seed with { Regions = [singapore with { Hosts = clients }, seed.Regions[1]] };

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
        Assert.Equal(["iproute2", "nftables", "curl", "mtr-tiny"], packages);
        var files = ((YamlSequenceNode)root["write_files"]).Cast<YamlMappingNode>().ToDictionary(f => f["path"].ToString(), f => f);
        Assert.Equal(HostRenderer.Render(topology, "sg-client", RenderFormat.Script), files[HostScript.InstalledPath]["content"].ToString());
        Assert.Equal("0755", files[HostScript.InstalledPath]["permissions"].ToString());
        var unit = files[HostScript.UnitPath]["content"].ToString();
        Assert.Equal(HostRenderer.Render(topology, "sg-client", RenderFormat.Systemd), unit);
        var runcmd = ((YamlSequenceNode)root["runcmd"]).Cast<YamlSequenceNode>().Select(c => string.Join(' ', c.Select(n => n.ToString()))).ToList();
        Assert.Equal(["systemctl daemon-reload", "systemctl enable --now egress-host.service"], runcmd);
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
