using System.CommandLine;
using System.Diagnostics;
using Egress.Lab;

namespace Egress.Cli.Commands;

internal sealed class LabDownCommand : Command
{
    public LabDownCommand(CliContext context)
        : base("down", "Remove the lab: every namespace (and with it every veth), /etc/netns entry, process and state file it made. Idempotent.")
    {
        var id = LabCli.IdOption("Lab id (default: the only lab that is up).");
        var all = new Option<bool>("--all") { Description = "Remove every lab whose owner is gone: leftovers of crashed runs and labs made by 'lab up' (their egl-* namespaces, /etc/netns/egl-* entries, /run/egress-lab state). A lab whose 'lab up', 'lab run' or test process still runs is kept." };
        var force = new Option<bool>("--force") { Description = "With --all: remove the labs of running owners too (it breaks their runs)." };
        Options.Add(id);
        Options.Add(all);
        Options.Add(force);
        SetAction(async (parse, cancellationToken) =>
        {
            LabCli.RequireRoot("down");
            if (parse.GetValue(force) && !parse.GetValue(all))
            {
                throw new UsageException("--force goes with --all (a single lab is removed by 'lab down --id ID' whoever owns it).");
            }

            var clock = Stopwatch.StartNew();
            var sweep = parse.GetValue(all)
                ? await LabController.Default.DownAllAsync(parse.GetValue(force), cancellationToken: cancellationToken)
                : new LabSweep([await LabController.Default.DownAsync(parse.GetValue(id) is { } given ? LabCli.ValidId(given) : LabCli.RunningId(null), cancellationToken)], []);
            foreach (var result in sweep.Removed)
            {
                context.Error.WriteLine(result.WasUp
                    ? $"lab {result.Id}: removed {result.Namespaces.Count} namespaces, {result.EtcEntries} /etc/netns entries, stopped {result.StoppedProcesses.Count} processes"
                    : $"lab {result.Id}: nothing to remove");
            }

            foreach (var kept in sweep.Kept)
            {
                context.Error.WriteLine($"lab {kept.Id}: kept, its owner (pid {kept.Owner.Pid}) still runs; 'lab down --id {kept.Id}' or '--all --force' removes it");
            }

            if (sweep.Removed.Count == 0 && sweep.Kept.Count == 0)
            {
                context.Error.WriteLine("no lab leftovers found");
            }

            context.Error.WriteLine($"down in {clock.Elapsed.TotalSeconds:0.00} s");
            return ExitCodes.Ok;
        });
    }
}
