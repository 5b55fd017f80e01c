using System.CommandLine;
using Egress.Core.Topology;
using Egress.Lab;

namespace Egress.Cli.Commands;

internal sealed class LabRunCommand : Command
{
    public LabRunCommand(CliContext context)
        : base("run", "Up, verify, report, down (always, also on failure, Ctrl-C or SIGTERM: then exit 130). A lab id that is up already is refused (exit 2) and left alone. Exit 0 only if every check passed. The embedded seed topology when there is no -f and no ./egress.yaml.")
    {
        var file = LabCli.FileOption();
        var id = LabCli.IdOption("Lab id (default: a fresh random one).");
        var naive = new Option<bool>("--naive") { Description = "Run the seed's naive design (expected to fail, with the reason counted)." };
        var verify = new VerifyCliOptions();
        var instances = LabCli.InstancesOption();
        var eipDelay = LabCli.EipDelayOption();
        var resolverDelay = LabCli.ResolverDelayOption();
        Options.Add(file);
        Options.Add(id);
        Options.Add(naive);
        Options.Add(instances);
        Options.Add(eipDelay);
        Options.Add(resolverDelay);
        verify.AddTo(this);
        SetAction((parse, cancellationToken) => LabCli.ReportingUpFailuresAsync(context, async () =>
        {
            LabCli.RequireRoot("run");
            var topology = LabCli.LoadTopology(context, parse.GetValue(file));
            var labId = parse.GetValue(id) is { } given ? LabCli.ValidId(given) : LabNames.RandomId();
            verify.OptionsFrom(parse); // bad verify options are exit 2 before anything is built
            RunningLab? lab = null;
            try
            {
                // A lab that is up already (or any failure to build) is never this run's to remove: UpAsync touches no
                // lab it did not claim, and removes what it built itself when it fails or is cancelled.
                lab = await LabCli.UpAsync(context, topology, labId, parse.GetValue(naive), cancellationToken, parse.GetValue(instances), parse.GetValue(eipDelay), parse.GetValue(resolverDelay));
                return await LabCli.VerifyAsync(context, parse, verify, lab, cancellationToken);
            }
            finally
            {
                if (lab is not null)
                {
                    var down = await LabController.Default.DownAsync(labId, CancellationToken.None);
                    context.Error.WriteLine(down.WasUp ? $"lab {labId} removed ({down.Namespaces.Count} namespaces)" : $"lab {labId}: nothing left to remove");
                }
            }
        }));
    }
}
