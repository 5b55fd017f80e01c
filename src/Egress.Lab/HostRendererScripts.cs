using Egress.Core.Topology;
using Egress.Host.Rendering;

namespace Egress.Lab;

/// <summary>The host renderer's POSIX sh script for a host (the same script cloud-init runs on EC2).</summary>
public sealed class HostRendererScripts : IHostScriptRenderer
{
    public static HostRendererScripts Instance { get; } = new();

    public string Render(TopologyModel topology, string hostName) => HostRenderer.Render(topology, hostName, RenderFormat.Script);
}
