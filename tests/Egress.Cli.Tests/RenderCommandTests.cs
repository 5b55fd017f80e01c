using Egress.Core.Topology;
using Egress.Host.Rendering;

namespace Egress.Cli.Tests;

public sealed class RenderCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Render_SeedClient_PrintsTheScriptOnStdout()
    {
        await _cli.RunAsync("init");

        var (code, stdout, _) = await _cli.RunAsync("render", "sg-client");

        Assert.Equal(0, code);
        Assert.Equal(HostRenderer.Render(Examples.Load(Examples.Seed), "sg-client", RenderFormat.Script), stdout);
    }

    [Theory]
    [InlineData("cloud-init", RenderFormat.CloudInit)]
    [InlineData("systemd", RenderFormat.Systemd)]
    [InlineData("script", RenderFormat.Script)]
    public async Task Render_Format_PrintsThatFormat(string option, RenderFormat format)
    {
        await _cli.RunAsync("init", "--example", "three-region");

        var (code, stdout, _) = await _cli.RunAsync("render", "tokyo-nat", "--format", option, "-f", "egress.yaml");

        Assert.Equal(0, code);
        Assert.Equal(HostRenderer.Render(Examples.Load(Examples.ThreeRegion), "tokyo-nat", format), stdout);
    }

    [Fact]
    public async Task Render_UnknownHost_ExitsTwoListingTheHosts()
    {
        await _cli.RunAsync("init");

        var (code, stdout, stderr) = await _cli.RunAsync("render", "osaka-nat");

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Contains("no host named 'osaka-nat'. Hosts: sg-client, tokyo-nat.", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_UnknownFormat_ExitsTwo()
    {
        await _cli.RunAsync("init");

        var (code, _, stderr) = await _cli.RunAsync("render", "sg-client", "--format", "ansible");

        Assert.Equal(2, code);
        Assert.Contains("ansible", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_AutoOverlay_RendersWhatApplySends_UnlessOverlayGiven()
    {
        await File.WriteAllTextAsync(_cli.PathOf("egress.yaml"), Examples.Text(Examples.Seed).Replace("mode: ipip ", "mode: auto ", StringComparison.Ordinal));

        var auto = await _cli.RunAsync("render", "sg-client");
        var vxlan = await _cli.RunAsync("render", "sg-client", "--overlay", "vxlan");
        var ipip = await _cli.RunAsync("render", "sg-client", "--overlay", "ipip");

        // One policy for auto: render prints the script apply's user data carries (ipip on EC2), and says so.
        Assert.Equal(0, auto.ExitCode);
        Assert.Contains("overlay.mode auto: rendering ipip", auto.Stderr, StringComparison.Ordinal);
        Assert.Contains("\"$@\" eg1 10.0.1.10 10.1.1.10 1 192.168.250.2/30 1480 tokyo-nat", auto.Stdout, StringComparison.Ordinal);
        Assert.Equal(ipip.Stdout, auto.Stdout);
        Assert.Equal(0, vxlan.ExitCode);
        Assert.Contains("type vxlan id", vxlan.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"$@\" eg1 10.0.1.10 10.1.1.10 1 192.168.250.2/30 1450 tokyo-nat", vxlan.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_MissingFile_ExitsTwo()
    {
        var (code, _, stderr) = await _cli.RunAsync("render", "sg-client", "-f", "none.yaml");

        Assert.Equal(2, code);
        Assert.Contains("none.yaml: no such file", stderr, StringComparison.Ordinal);
    }
}
