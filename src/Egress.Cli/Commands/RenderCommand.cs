using System.CommandLine;
using Egress.Core.Topology;
using Egress.Host.Rendering;

namespace Egress.Cli.Commands;

/// <summary>egress render HOST: the host's script, cloud-init user data or systemd unit on stdout.</summary>
internal sealed class RenderCommand : Command
{
    public RenderCommand(CliContext context)
        : base("render", "Print what configures a host: its shell script (apply|check|down|status), cloud-init user data, or systemd unit.")
    {
        var host = new Argument<string>("HOST") { Description = "A host name from the topology." };
        var format = new Option<string>("--format")
        {
            Description = "What to print: the script, cloud-init user data for EC2, or the systemd unit.",
            DefaultValueFactory = _ => "script",
            HelpName = "script|cloud-init|systemd",
        };
        format.AcceptOnlyFromAmong("script", "cloud-init", "systemd");
        var overlay = new Option<string?>("--overlay")
        {
            Description = "Render for this overlay mode instead of the topology's (ipip|gre|vxlan); needed when the topology says auto.",
            HelpName = "ipip|gre|vxlan",
        };
        overlay.AcceptOnlyFromAmong("ipip", "gre", "vxlan");
        Arguments.Add(host);
        var source = TopologySource.AddTo(this);
        Options.Add(format);
        Options.Add(overlay);

        SetAction(parse =>
        {
            var (topology, path) = source.Load(context, parse);
            var name = parse.GetValue(host)!;
            if (topology.FindHost(name) is null)
            {
                throw new UsageException($"{path}: no host named '{name}'. Hosts: {string.Join(", ", topology.Hosts.Select(h => h.Name))}.");
            }

            if (parse.GetValue(overlay) is { } mode)
            {
                topology = topology with { Overlay = topology.Overlay with { Mode = Enum.Parse<OverlayMode>(mode, ignoreCase: true) } };
            }
            else if (topology.Overlay.Mode == OverlayMode.Auto)
            {
                // The same mode apply puts into the user data; the lab probes its kernel instead.
                topology = OverlayPolicy.ForEc2(topology);
                context.Error.WriteLine($"{path}: overlay.mode auto: rendering {OverlayPolicy.OnEc2.ToString().ToLowerInvariant()}, as apply does for EC2 (--overlay picks another)");
            }

            string text;
            try
            {
                text = HostRenderer.Render(topology, name, ParseFormat(parse.GetValue(format)!));
            }
            catch (ArgumentException ex)
            {
                throw new UsageException($"{path}: {ex.Message}");
            }

            context.Output.Write(text);
            return ExitCodes.Ok;
        });
    }

    private static RenderFormat ParseFormat(string text) => text switch
    {
        "cloud-init" => RenderFormat.CloudInit,
        "systemd" => RenderFormat.Systemd,
        _ => RenderFormat.Script,
    };
}
