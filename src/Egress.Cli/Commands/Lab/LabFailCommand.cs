using System.CommandLine;
using Egress.Processes;
using Egress.Lab;
using Egress.Lab.Vm;
using Egress.Lab.World;

namespace Egress.Cli.Commands;

/// <summary>lab fail GATEWAY / lab heal GATEWAY: cut a gateway off (its namespace drops everything) or restore it,
/// to watch the clients' failover happen (docs/failover.md).</summary>
internal sealed class LabFailCommand : Command
{
    public LabFailCommand(CliContext context, bool fail)
        : base(fail ? "fail" : "heal", fail
            ? "Cut a gateway off: its namespace drops every packet it receives, sends or forwards, as if the instance died. Clients fail over to their next gateway."
            : "Restore a gateway cut off by 'lab fail'. Clients fail back once it has been up for failover.holdDownMs.")
    {
        var gateway = new Argument<string>("GATEWAY") { Description = "A gateway host of the topology." };
        var id = LabCli.IdOption("Lab id (default: the only lab that is up).");
        Arguments.Add(gateway);
        Options.Add(id);
        SetAction(async (parse, cancellationToken) =>
        {
            LabCli.RequireRoot(fail ? "fail" : "heal");
            var lab = LabCli.Open(LabCli.RunningId(parse.GetValue(id)));
            try
            {
                if (lab.Manifest.Instances == LabInstances.Vm)
                {
                    // A VM gateway fails as an instance does: powered off hard; heal boots it again from its disk.
                    var name = parse.GetValue(gateway)!;
                    if (!lab.Plan.Hosts.Any(h => h.Name == name && h.Role == Egress.Core.Topology.HostRole.Gateway))
                    {
                        throw new LabException($"'{name}' is not a gateway of lab {lab.Id}; its gateways: {string.Join(", ", lab.Plan.Hosts.Where(h => h.Role == Egress.Core.Topology.HostRole.Gateway).Select(h => h.Name))}.");
                    }

                    if (fail)
                    {
                        VmLab.PowerOff(new VmFiles(lab.State), name);
                    }
                    else
                    {
                        await new VmLab(ProcessRunner.Instance).PowerOnAsync(lab, name, cancellationToken);
                    }
                }
                else
                {
                    await LabController.Default.SetGatewayFailedAsync(lab, parse.GetValue(gateway)!, fail, cancellationToken);
                }
            }
            catch (LabException ex)
            {
                throw new UsageException(ex.Message);
            }

            context.Error.WriteLine(fail
                ? $"{parse.GetValue(gateway)} is cut off; 'egress lab status' shows where each client egresses now"
                : $"{parse.GetValue(gateway)} is back; clients fail back after the hold-down");
            return ExitCodes.Ok;
        });
    }
}
