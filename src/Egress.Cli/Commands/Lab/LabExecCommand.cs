using System.CommandLine;
using System.Diagnostics;

namespace Egress.Cli.Commands;

internal sealed class LabExecCommand : Command
{
    public LabExecCommand(CliContext context)
        : base("exec", "Run a command inside a lab host (e.g. 'egress lab exec sg-client -- curl -s https://ipinfo.io/json'); its exit code is passed through.")
    {
        var host = new Argument<string>("HOST") { Description = "A host of the topology." };
        var command = new Argument<string[]>("COMMAND") { Description = "The command and its arguments (after --).", Arity = ArgumentArity.OneOrMore };
        var id = LabCli.IdOption("Lab id (default: the only lab that is up).");
        Arguments.Add(host);
        Arguments.Add(command);
        Options.Add(id);
        SetAction(async (parse, cancellationToken) =>
        {
            LabCli.RequireRoot("exec");
            var lab = LabCli.Open(LabCli.RunningId(parse.GetValue(id)));
            var name = parse.GetValue(host)!;
            var target = lab.Plan.Hosts.FirstOrDefault(h => h.Name == name)
                ?? throw new UsageException($"lab {lab.Id} has no host '{name}'; hosts: {string.Join(", ", lab.Plan.Hosts.Select(h => h.Name))}.");
            var info = new ProcessStartInfo("ip") { UseShellExecute = false };
            foreach (var argument in new[] { "netns", "exec", target.Namespace }.Concat(parse.GetValue(command)!))
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start ip netns exec");
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return process.ExitCode;
        });
    }
}
