using System.CommandLine;
using Egress.Lab;
using Egress.Lab.Vm;
using Egress.Lab.World;

namespace Egress.Cli.Commands;

/// <summary>lab reboot HOST: a graceful reboot of a VM host (its systemd reboots it; the unit applies the script at boot).</summary>
internal sealed class LabRebootCommand : Command
{
    public LabRebootCommand(CliContext context)
        : base("reboot", "Reboot a host of a VM lab gracefully (Ctrl-Alt-Del through QEMU: systemd reboots, as on EC2's RebootInstances). 'lab verify' passes again once it is back.")
    {
        var host = new Argument<string>("HOST") { Description = "A host of the topology." };
        var id = LabCli.IdOption("Lab id (default: the only lab that is up).");
        Arguments.Add(host);
        Options.Add(id);
        SetAction(async (parse, cancellationToken) =>
        {
            LabCli.RequireRoot("reboot");
            var lab = LabCli.Open(LabCli.RunningId(parse.GetValue(id)));
            var name = parse.GetValue(host)!;
            if (lab.Manifest.Instances != LabInstances.Vm)
            {
                throw new UsageException($"lab {lab.Id} runs its hosts in namespaces, which have no boot to go through; 'lab up --instances vm' makes hosts that reboot.");
            }

            if (lab.Plan.Hosts.All(h => h.Name != name))
            {
                throw new UsageException($"lab {lab.Id} has no host '{name}'; hosts: {string.Join(", ", lab.Plan.Hosts.Select(h => h.Name))}.");
            }

            try
            {
                await VmLab.RebootAsync(new VmFiles(lab.State), name, cancellationToken);
            }
            catch (LabException ex)
            {
                throw new UsageException(ex.Message);
            }

            context.Error.WriteLine($"{name} is rebooting; its console: {new VmFiles(lab.State).Console(name)}");
            return ExitCodes.Ok;
        });
    }
}
