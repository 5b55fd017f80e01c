using Egress.Core.Topology;
using Egress.Lab;

namespace Egress.Cli;

/// <summary>The host renderer the lab applies in host namespaces.</summary>
internal static class HostScripts
{
    public static IHostScriptRenderer Renderer { get; } = new PendingRenderer();

    /// <summary>Until the host renderer (issue 3) is merged, the lab cannot apply host scripts.</summary>
    private sealed class PendingRenderer : IHostScriptRenderer
    {
        public string Render(TopologyModel topology, string hostName) =>
            throw new Egress.Lab.LabException("the host renderer (issue 3) is not in this build yet; only 'egress lab up --naive' works.");
    }
}
