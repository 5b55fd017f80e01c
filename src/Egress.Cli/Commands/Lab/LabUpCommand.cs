using System.CommandLine;
using Egress.Core.Topology;
using Egress.Lab;

namespace Egress.Cli.Commands;

internal sealed class LabUpCommand : Command
{
    public LabUpCommand(CliContext context)
        : base("up", "Build the lab: namespaces, VPC routers, IGWs, peering, the internet with its services, the host scripts applied. State in /run/egress-lab/ID/.")
    {
        var file = LabCli.FileOption();
        var id = LabCli.IdOption("Lab id (default: from the topology's stack, e.g. seed).");
        var naive = new Option<bool>("--naive") { Description = "Build the seed's misleading first design instead (client VPC 0.0.0.0/0 → peering, no overlay): its egress fails, and the peering drop counter says why." };
        var instances = LabCli.InstancesOption();
        var eipDelay = LabCli.EipDelayOption();
        var resolverDelay = LabCli.ResolverDelayOption();
        Options.Add(file);
        Options.Add(id);
        Options.Add(naive);
        Options.Add(instances);
        Options.Add(eipDelay);
        Options.Add(resolverDelay);
        SetAction((parse, cancellationToken) => LabCli.ReportingUpFailuresAsync(context, async () =>
        {
            LabCli.RequireRoot("up");
            var topology = LabCli.LoadTopology(context, parse.GetValue(file));
            var labId = parse.GetValue(id) is { } given ? LabCli.ValidId(given) : LabNames.IdFromStack(topology.Stack);
            await LabCli.UpAsync(context, topology, labId, parse.GetValue(naive), cancellationToken, parse.GetValue(instances), parse.GetValue(eipDelay), parse.GetValue(resolverDelay));
            context.Output.WriteLine(labId);
            return ExitCodes.Ok;
        }));
    }
}
