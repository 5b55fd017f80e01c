using Egress.Core.Topology;
using Egress.Host.Rendering;

namespace Egress.Cli;

/// <summary>The user data the provisioner puts on each host: the host renderer's cloud-init.</summary>
internal static class HostUserData
{
    /// <summary>Overlay <c>auto</c> as on EC2 (<see cref="OverlayPolicy"/>): the renderer wants a concrete mode.</summary>
    public static string Render(TopologyModel topology, string hostName)
    {
        var concrete = OverlayPolicy.ForEc2(topology);
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
