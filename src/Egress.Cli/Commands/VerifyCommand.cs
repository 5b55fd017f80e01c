using System.CommandLine;
using Egress.Aws.Execution;
using Egress.Aws.Model;
using Egress.Aws.Remote;
using Egress.Core.Net;
using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Rendering;
using Egress.Verify;

namespace Egress.Cli.Commands;

/// <summary>egress verify: the seed's validation against the stack on AWS. Every measurement runs on the hosts
/// themselves (SSM Run Command when the host has an instance profile, else SSH), exactly as in the lab.</summary>
internal sealed class VerifyCommand : Command
{
    public VerifyCommand(CliContext context)
        : base("verify", "Verify the stack on AWS: connectivity (tunnel ping, each host's check), latency per phase cold and keep-alive (p50/p90/p99/max, the cold budget), path (first hop is the gateway's tunnel), egress IP and geolocation, over R rounds that must all pass. Commands run on the hosts via SSM or SSH. Exit 0 pass, 1 fail. See docs/verify.md.")
    {
        var aws = new AwsVerb(context, this, desiredState: false);
        var verify = new VerifyCliOptions(aws.Output);
        verify.AddTo(this);
        var (privateKey, knownHosts) = AwsVerb.AddRemoteAccessOptions(this);
        SetAction((parse, cancellationToken) =>
        {
            var topology = aws.Topology(parse);
            var options = verify.OptionsFrom(parse);
            var output = verify.OutputFrom(context, parse);
            var access = AwsVerb.RemoteAccessFrom(context, parse, privateKey, knownHosts);
            return aws.RunAsync(parse, async (provisioner, ports) =>
            {
                var observed = await provisioner.DiscoverAsync(topology.Stack, Aws.AwsProvisioner.RegionsOf(topology), cancellationToken);
                var runners = new Dictionary<string, ICommandRunner>();
                foreach (var host in topology.Hosts)
                {
                    var remote = await RemoteRunners.ForHostAsync(ports, topology, host.Name, access, context.Time, new RetryPolicy(context.Time),
                        message => context.Error.WriteLine(message), cancellationToken);
                    context.Error.WriteLine($"{host.Name}: {remote.Description}");
                    runners[host.Name] = remote.Runner;
                }

                var environment = new VerifyEnvironment(
                    "aws",
                    topology,
                    host => runners[host],
                    PublicAddresses(topology, observed),
                    LatencyEmulated: false, // real delays: the budget is judged because this is AWS
                    _ => new CommandSpec("sudo", ["-n", "/bin/sh", HostScript.InstalledPath, "check"]) { Timeout = TimeSpan.FromMinutes(1) });
                return await VerifyRun.RunAsync(environment, options, output, cancellationToken);
            });
        });
    }

    /// <summary>Each running host's public address: its Elastic IP, else the address it got at launch.</summary>
    internal static IReadOnlyDictionary<string, Ipv4Address> PublicAddresses(TopologyModel topology, ObservedState observed)
    {
        var addresses = new Dictionary<string, Ipv4Address>();
        foreach (var host in topology.Hosts)
        {
            var region = observed.Region(topology.RegionOf(host).Name);
            var instance = region.Instances.FirstOrDefault(i =>
                i.Component == new ResourceAddress(region.Region, ResourceKind.Instance, host.Name).Component && i.State == InstanceStates.Running);
            var elastic = region.Addresses.FirstOrDefault(a => a.Component == new ResourceAddress(region.Region, ResourceKind.ElasticIp, host.Name).Component);
            var text = elastic?.PublicIp ?? instance?.PublicIp;
            if (Ipv4Address.TryParse(text, out var address))
            {
                addresses[host.Name] = address;
            }
        }

        return addresses;
    }
}
