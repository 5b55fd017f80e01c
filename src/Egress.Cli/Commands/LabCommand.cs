using System.CommandLine;

namespace Egress.Cli.Commands;

/// <summary>egress lab up|status|exec|verify|down|run: the whole topology on this machine in network namespaces.</summary>
internal sealed class LabCommand : Command
{
    public LabCommand(CliContext context)
        : base("lab", "Build the topology on this machine in network namespaces with AWS's rules (VPC routers, IGW 1:1 NAT, peering without edge-to-edge routing, an internet with HTTPS services) and prove it works. Needs root.\nStart with 'sudo egress lab run'.")
    {
        Subcommands.Add(new LabUpCommand(context));
        Subcommands.Add(new LabStatusCommand(context));
        Subcommands.Add(new LabExecCommand(context));
        Subcommands.Add(new LabVerifyCommand(context));
        Subcommands.Add(new LabDownCommand(context));
        Subcommands.Add(new LabFailCommand(context, fail: true));
        Subcommands.Add(new LabFailCommand(context, fail: false));
        Subcommands.Add(new LabRebootCommand(context));
        Subcommands.Add(new LabRunCommand(context));
        Subcommands.Add(new LabServeCommand());
        Subcommands.Add(new LabMetadataCommand());
        Subcommands.Add(new LabResolverCommand());
    }
}
