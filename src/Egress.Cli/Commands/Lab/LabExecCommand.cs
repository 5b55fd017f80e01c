using System.CommandLine;
using System.Diagnostics;
using Egress.Aws.Remote;
using Egress.Lab;
using Egress.Lab.Vm;
using Egress.Lab.World;
using Egress.Processes;

namespace Egress.Cli.Commands;

internal sealed class LabExecCommand : Command
{
    public LabExecCommand(CliContext context)
        : base("exec", "Run a command as root inside a lab host (e.g. 'egress lab exec sg-client -- curl -s https://ipinfo.io/json'); its exit code is passed through. On a VM lab it runs over SSH from the lab's internet, with the host keys pinned from the VM's console.")
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
            var words = lab.Manifest.Instances == LabInstances.Vm
                ? VmSsh(lab, name, parse.GetValue(command)!)
                : ["netns", "exec", target.Namespace, .. parse.GetValue(command)!];
            foreach (var argument in words)
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

    /// <summary>A VM has no namespace to enter: `ip netns exec` runs OpenSSH from the lab's internet (as one reaches an
    /// EC2 host), to the host's public address as ubuntu with the lab's key, the host keys pinned from the VM's console
    /// (written to vm/HOST.known_hosts; nothing else is trusted), and the command runs as root through sudo, as it does
    /// in a namespace host. ssh's own failures exit 255.</summary>
    internal static IReadOnlyList<string> VmSsh(RunningLab lab, string host, IReadOnlyList<string> command)
    {
        var files = new VmFiles(lab.State);
        var address = lab.PublicAddressOf(host)
            ?? throw new UsageException($"host '{host}' has no public address: a VM is reached over SSH from the lab's internet, as on AWS (give it publicIp: auto, or use 'lab exec' on a host that has one).");
        var keys = ConsoleHostKeys.ParseKeys(VmLab.ReadConsole(files, host));
        if (keys.Count == 0)
        {
            throw new UsageException($"the console of {host} ({files.Console(host)}) shows no SSH host keys yet: cloud-init has not finished its first boot.");
        }

        var knownHosts = Path.Combine(files.Directory, host + ".known_hosts");
        File.WriteAllLines(knownHosts, keys.Select(k => address + " " + k));
        return
        [
            "netns", "exec", lab.Plan.InternetNamespace, "ssh", "-q", "-i", files.PrivateKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts, "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "ConnectTimeout=20", .. Console.IsInputRedirected ? Array.Empty<string>() : ["-t"],
            $"{SshTarget.UbuntuUser}@{address}", "--", string.Join(' ', ["sudo", "-n", .. command.Select(ShellWord.Quote)]),
        ];
    }
}
