using System.CommandLine;
using Egress.Lab;

namespace Egress.Cli.Commands;

/// <summary>Hidden: the lab's services process, started by `lab up` inside the internet namespace.</summary>
internal sealed class LabServeCommand : Command
{
    public LabServeCommand()
        : base("serve", "Run the lab's internet services (started by 'lab up'; not for direct use).")
    {
        Hidden = true;
        var id = new Option<string>("--id") { Required = true };
        Options.Add(id);
        SetAction(async (parse, cancellationToken) =>
        {
            await RunningLab.ServeAsync(LabCli.ValidId(parse.GetValue(id)!), cancellationToken);
            return ExitCodes.Ok;
        });
    }
}
