using Egress.Core.Topology;

namespace Egress.Lab;

/// <summary>Where the lab gets a host's script: a POSIX sh script run as `sh SCRIPT apply|check|down|status`
/// inside the host's namespace with EGRESS_NETNS_ONLY=1; `check` prints the JSON check report.</summary>
public interface IHostScriptRenderer
{
    string Render(TopologyModel topology, string hostName);
}
