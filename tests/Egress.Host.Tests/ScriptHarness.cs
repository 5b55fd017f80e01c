using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Rendering;

namespace Egress.Host.Tests;

/// <summary>Runs shell against a rendered script's data block and library (everything but the verb dispatch at its
/// end) under sh, with fakes defined after the library (e.g. an <c>ip</c> that prints what it was called with).</summary>
internal static class ScriptHarness
{
    /// <summary>The dispatch main.sh ends the script with.</summary>
    public const string Dispatch = "case \"${1:-}\" in";

    public static string Functions(TopologyModel topology, string host)
    {
        var script = HostRenderer.Render(topology, host, RenderFormat.Script);
        var end = script.LastIndexOf(Dispatch, StringComparison.Ordinal);
        Assert.True(end > 0, "the rendered script does not end with the verb dispatch of main.sh");
        return script[..end];
    }

    /// <summary>Runs <paramref name="body"/> after the host's functions; the run directory is a fresh temporary one.</summary>
    public static async Task<CommandResult> RunAsync(TopologyModel topology, string host, string body)
    {
        var dir = Directory.CreateTempSubdirectory("eh-harness-");
        try
        {
            return await ProcessRunner.Instance.RunAsync(new CommandSpec("sh", ["-c", Functions(topology, host) + body])
            {
                Environment = new Dictionary<string, string> { ["EGRESS_RUN_DIR"] = dir.FullName },
            });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>An <c>ip</c> that knows only the uplink eth0 holding the host's private IP (every other query prints
    /// nothing) and prints each other call as "CALL ip ARGS"; an <c>nft</c> that knows no table and prints what it is fed.</summary>
    public const string EmptyKernel = """
        ip() {
          case "$*" in
            "-o -4 addr show") echo "2: eth0    inet $PRIVATE_IP/24 scope global eth0" ;;
            *"link show"*) return 1 ;;
            *show*) return 0 ;;
            *) echo "CALL ip $*" ;;
          esac
        }
        nft() { case "$*" in "-f -") echo "NFT-FILE"; cat ;; list*) return 1 ;; *) echo "CALL nft $*" ;; esac; }

        """;
}
