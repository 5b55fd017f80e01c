using System.CommandLine;
using Egress.Lab.Services;

namespace Egress.Cli.Commands;

/// <summary>Hidden: a region's delaying VPC resolver forwarder (`lab up --resolver-delay REGION=MS`), started by `lab up`
/// inside the region's router namespace, on port 53 of the resolver's addresses.</summary>
internal sealed class LabResolverCommand : Command
{
    public LabResolverCommand()
        : base("resolver", "Run a region's delaying VPC resolver forwarder (started by 'lab up --resolver-delay'; not for direct use).")
    {
        Hidden = true;
        var id = new Option<string>("--id") { Required = true };
        var region = new Option<string>("--region") { Required = true };
        Options.Add(id);
        Options.Add(region);
        SetAction(async (parse, cancellationToken) =>
        {
            await LabResolverDelay.ServeAsync(LabCli.ValidId(parse.GetValue(id)!), parse.GetValue(region)!, cancellationToken);
            return ExitCodes.Ok;
        });
    }
}
