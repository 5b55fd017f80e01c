using Egress.Core.Topology;

namespace Egress.Cli;

/// <summary>The user data the provisioner puts on each host: the host renderer's cloud-init.</summary>
internal static class HostUserData
{
    public static string Render(TopologyModel topology, string hostName) =>
        throw new UsageException(
            $"cannot build the cloud-init user data for host '{hostName}': the host renderer (Egress.Host.Rendering) is not in this build of egress. " +
            "'plan' and 'apply' need it; 'status' and 'destroy' work without it.");
}
