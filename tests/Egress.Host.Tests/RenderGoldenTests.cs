using Egress.Core.Topology;
using Egress.Host.Rendering;

namespace Egress.Host.Tests;

/// <summary>One verified file per role x overlay mode x format, for the seed topology. The script's file holds only its
/// data block (the library is the same fixed shell for every host of a role: Scripts/*.sh, shellchecked directly); the
/// cloud-init's file holds the user data with the script's content replaced by a placeholder, once it is shown to be
/// exactly the script (plain or gzip+base64).</summary>
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
        var topology = Topologies.Seed(mode);
        var text = HostRenderer.Render(topology, host, format);
        var plan = HostRenderer.Plan(topology, host);

        if (format == RenderFormat.Script)
        {
            var data = ScriptRenderer.DataBlock(plan);
            Assert.Equal(data + ScriptRenderer.Library(plan.Role), text);
            text = data;
        }
        else if (format == RenderFormat.CloudInit)
        {
            text = WithoutScript(text, HostRenderer.Render(topology, host, RenderFormat.Script), host);
        }

        Golden.Verify(FileName(host, mode, format), text);
    }

    [Fact]
    public void Golden_EveryFile_IsACase()
    {
        var expected = Cases().Select(row => FileName((string)row[0], (OverlayMode)row[1], (RenderFormat)row[2])).Order().ToList();
        var present = Directory.GetFiles(Golden.Directory()).Select(p => Path.GetFileName(p)).Where(n => !n.Contains(".received.", StringComparison.Ordinal)).Order().ToList();

        Assert.Equal(expected, present);
    }

    [Theory]
    [InlineData("sg-client")]
    [InlineData("tokyo-nat")]
    public void DocsExamples_MatchTheSeedRendering(string host)
    {
        Golden.Verify(Golden.DocsDirectory(), $"{host}.sh", HostRenderer.Render(Topologies.Seed(), host, RenderFormat.Script));
    }

    /// <summary>The user data with the script's content (which must be exactly <paramref name="script"/>) replaced by a
    /// placeholder line.</summary>
    private static string WithoutScript(string cloudInit, string script, string host)
    {
        const string Gzip = "    encoding: gz+b64\n    content: ";
        var placeholder = $"<the script: egress render {host}>";
        var gz = cloudInit.IndexOf(Gzip, StringComparison.Ordinal);
        if (gz >= 0)
        {
            var start = gz + Gzip.Length;
            var end = cloudInit.IndexOf('\n', start);
            using var input = new System.IO.Compression.GZipStream(new MemoryStream(Convert.FromBase64String(cloudInit[start..end])), System.IO.Compression.CompressionMode.Decompress);
            using var reader = new StreamReader(input, System.Text.Encoding.UTF8);
            Assert.Equal(script, reader.ReadToEnd());
            return cloudInit[..start] + placeholder + cloudInit[end..];
        }

        var indented = "    content: |\n" + string.Concat(script.TrimEnd('\n').Split('\n').Select(l => (l.Length == 0 ? string.Empty : "      ") + l + "\n"));
        Assert.Contains(indented, cloudInit, StringComparison.Ordinal);
        return cloudInit.Replace(indented, $"    content: |\n      {placeholder}\n", StringComparison.Ordinal);
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
