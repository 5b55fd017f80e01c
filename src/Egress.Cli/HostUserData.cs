using Egress.Core.Topology;
using Egress.Host.Rendering;

namespace Egress.Cli;

/// <summary>The user data the provisioner puts on each host: the host renderer's cloud-init.</summary>
internal static class HostUserData
{
    /// <summary>Overlay <c>auto</c> is IP-in-IP on AWS: Ubuntu's kernel has ipip (the renderer wants a concrete mode).</summary>
    public static string Render(TopologyModel topology, string hostName)
    {
        var concrete = topology.Overlay.Mode == OverlayMode.Auto
            ? topology with { Overlay = topology.Overlay with { Mode = OverlayMode.Ipip } }
            : topology;
        try
        {
            return HostRenderer.Render(concrete, hostName, RenderFormat.CloudInit);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"cannot build the cloud-init user data for host '{hostName}': {ex.Message}");
        }
    }
}
