using Egress.Core.Topology;
using Egress.Host.Rendering;

namespace Egress.Host.Tests;

/// <summary>One verified file per role x overlay mode x format, for the seed topology.</summary>
public sealed class RenderGoldenTests
{
    public static TheoryData<string, OverlayMode, RenderFormat> Cases()
    {
        var data = new TheoryData<string, OverlayMode, RenderFormat>();
        foreach (var host in new[] { "sg-client", "tokyo-nat" })
        {
            foreach (var mode in Topologies.ConcreteModes)
            {
                foreach (var format in Enum.GetValues<RenderFormat>())
                {
                    data.Add(host, mode, format);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Render_Seed_MatchesVerifiedFile(string host, OverlayMode mode, RenderFormat format)
    {
        var text = HostRenderer.Render(Topologies.Seed(mode), host, format);

        Golden.Verify(FileName(host, mode, format), text);
    }

    [Fact]
    public void Golden_EveryFile_IsACase()
    {
        var expected = Cases().Select(row => FileName((string)row[0], (OverlayMode)row[1], (RenderFormat)row[2])).Order().ToList();
        var present = Directory.GetFiles(Golden.Directory()).Select(p => Path.GetFileName(p)).Where(n => !n.Contains(".received.", StringComparison.Ordinal)).Order().ToList();

        Assert.Equal(expected, present);
    }

    [Fact]
    public void DocsExamples_MatchTheSeedRendering()
    {
        var docs = Path.Combine(Golden.Directory(), "..", "..", "..", "docs", "host-scripts");
        foreach (var host in new[] { "sg-client", "tokyo-nat" })
        {
            var path = Path.Combine(docs, $"{host}.sh");
            Assert.True(File.Exists(path), $"{path} is missing: write it with `egress render {host} -f examples/seed.yaml > docs/host-scripts/{host}.sh`.");
            Assert.Equal(HostRenderer.Render(Topologies.Seed(), host, RenderFormat.Script), File.ReadAllText(path));
        }
    }

    internal static string FileName(string host, OverlayMode mode, RenderFormat format) =>
        $"{host}.{mode.ToString().ToLowerInvariant()}.{format switch
        {
            RenderFormat.Script => "sh",
            RenderFormat.CloudInit => "cloud-init.yaml",
            RenderFormat.Systemd => "service",
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        }}";
}
