using System.CommandLine;
using Egress.Lab;
using Egress.Lab.Vm;
using Egress.Lab.World;

namespace Egress.Cli.Commands;

/// <summary>Hidden: a VPC's instance metadata service (IMDSv2) for the lab's VMs, started by `lab up --instances vm`
/// inside the region's router namespace, at 169.254.169.254:80.</summary>
internal sealed class LabMetadataCommand : Command
{
    public LabMetadataCommand()
        : base("metadata", "Run a VPC's instance metadata service for the lab's VMs (started by 'lab up --instances vm'; not for direct use).")
    {
        Hidden = true;
        var id = new Option<string>("--id") { Required = true };
        var region = new Option<string>("--region") { Required = true };
        Options.Add(id);
        Options.Add(region);
        SetAction(async (parse, cancellationToken) =>
        {
            var lab = RunningLab.Open(LabCli.ValidId(parse.GetValue(id)!));
            var files = new VmFiles(lab.State);
            var name = parse.GetValue(region)!;
            await File.WriteAllTextAsync(files.MetadataPid(name), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
            var key = await File.ReadAllTextAsync(files.PublicKey, cancellationToken);
            var instances = VmInstancePlanner.Plan(lab.Plan).Where(i => i.Region == name)
                .Select(i => new InstanceMetadata(i, key, File.ReadAllBytes(files.UserData(i.Host))))
                .ToList();
            await InstanceMetadataService.RunAsync(System.Net.IPAddress.Parse(LabWorldPlan.MetadataAddress.ToString()), instances, files.MetadataRequests(name),
                () => File.WriteAllText(files.MetadataReady(name), "ready\n"), cancellationToken);
            return ExitCodes.Ok;
        });
    }
}
