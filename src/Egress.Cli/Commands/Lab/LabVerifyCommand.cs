using System.CommandLine;
using Egress.Lab;

namespace Egress.Cli.Commands;

internal sealed class LabVerifyCommand : Command
{
    public LabVerifyCommand(CliContext context)
        : base("verify", "Run the verify suite against a running lab: egress identity and geolocation, path, connectivity, latency (judged only with latency emulation), every host's check, and the lab's counters (no client egress via its own IGW, no peering edge-to-edge or IGW drops). Exit 0 pass, 1 fail.")
    {
        var id = LabCli.IdOption("Lab id (default: the only lab that is up).");
        var verify = new VerifyCliOptions();
        Options.Add(id);
        verify.AddTo(this);
        SetAction(async (parse, cancellationToken) =>
        {
            LabCli.RequireRoot("verify");
            var lab = LabCli.Open(LabCli.RunningId(parse.GetValue(id)));
            return await LabCli.VerifyAsync(context, parse, verify, lab, cancellationToken);
        });
    }
}
