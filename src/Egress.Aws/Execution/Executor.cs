using System.Collections.Concurrent;
using Egress.Aws.Model;
using Egress.Aws.Planning;
using Egress.Aws.Ports;

namespace Egress.Aws.Execution;

/// <summary>What apply reports while it works; the CLI draws it, tests record it.</summary>
public interface IApplyProgress
{
    void Finished(PlanStep step, bool deleting, string? id, TimeSpan elapsed);

    /// <summary>Retries, waits and other news from one region.</summary>
    void Note(string region, string message);
}

public sealed class NoProgress : IApplyProgress
{
    public static NoProgress Instance { get; } = new();

    public void Finished(PlanStep step, bool deleting, string? id, TimeSpan elapsed)
    {
    }

    public void Note(string region, string message)
    {
    }
}

public sealed record ExecutorOptions
{
    public TimeSpan InstanceTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public TimeSpan PeeringTimeout { get; init; } = TimeSpan.FromMinutes(5);

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Makes RunInstances client tokens unique to this run; a retry within the run reuses it.</summary>
    public string RunId { get; init; } = Guid.NewGuid().ToString("N")[..12];
}

/// <summary>Executes a plan: first every delete (and the delete half of each replace) from the last kind to the first,
/// then every create and update from the first kind to the last. Within one kind the regions run concurrently;
/// each kind is a barrier, which is what cross-region peering needs (both VPCs exist before it, it is active before
/// routes point at it). Every call goes through the retry policy; waiters poll through the <see cref="TimeProvider"/>.</summary>
public sealed class Executor
{
    private readonly IAwsPorts _ports;
    private readonly TimeProvider _time;
    private readonly RetryPolicy _retry;
    private readonly ExecutorOptions _options;
    private readonly IApplyProgress _progress;

    public Executor(IAwsPorts ports, TimeProvider time, RetryPolicy retry, IApplyProgress? progress = null, ExecutorOptions? options = null)
    {
        _ports = ports;
        _time = time;
        _retry = retry;
        _progress = progress ?? NoProgress.Instance;
        _options = options ?? new ExecutorOptions();
    }

    /// <summary>Resolves the Ubuntu AMI for each instance to be launched without an explicit one, before anything changes,
    /// so a missing parameter stops apply with nothing half-done.</summary>
    public async Task<IReadOnlyDictionary<(string Region, string Parameter), string>> ResolveAmisAsync(Plan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var wanted = plan.Steps.Where(s => s.Action is PlanAction.Create or PlanAction.Replace)
            .Select(s => s.Desired).OfType<DesiredInstance>().Where(i => i.Ami is null)
            .Select(i => (i.Address.Region, i.AmiParameter)).Distinct().ToList();
        var result = new Dictionary<(string, string), string>();
        foreach (var (region, parameter) in wanted)
        {
            var ssm = _ports.Ssm(region);
            string? value;
            try
            {
                value = await _retry.RunAsync(ct => ssm.GetParameterAsync(parameter, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
            }
            catch (AwsApiException ex)
            {
                throw AwsErrors.Map(ex);
            }

            result[(region, parameter)] = value ?? throw AwsErrors.Map(new AwsApiException(AwsErrors.ParameterNotFound, parameter, "GetParameter", region));
        }

        return result;
    }

    public async Task ApplyAsync(Plan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var amis = await ResolveAmisAsync(plan, cancellationToken).ConfigureAwait(false);
        var run = new Run(this, plan, amis);
        var deletes = plan.Steps.Where(s => s.Action is PlanAction.Delete or PlanAction.Replace && s.Observed is not null);
        foreach (var rank in deletes.GroupBy(s => s.Resource.Kind).OrderByDescending(g => g.Key))
        {
            await RunRankAsync(rank, step => run.DeleteAsync(step), deleting: true, cancellationToken).ConfigureAwait(false);
        }

        var creates = plan.Steps.Where(s => s.Action != PlanAction.Delete);
        foreach (var rank in creates.GroupBy(s => s.Resource.Kind).OrderBy(g => g.Key))
        {
            await RunRankAsync(rank, step => run.CreateOrUpdateAsync(step), deleting: false, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RunRankAsync(IEnumerable<PlanStep> steps, Func<PlanStepContext, Task<string?>> action, bool deleting, CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var regions = steps.GroupBy(s => s.Resource.Region).Select(async region =>
        {
            try
            {
                foreach (var step in region)
                {
                    failed.Token.ThrowIfCancellationRequested();
                    var started = _time.GetTimestamp();
                    string? id;
                    try
                    {
                        id = await action(new PlanStepContext(step, failed.Token)).ConfigureAwait(false);
                    }
                    catch (AwsApiException ex)
                    {
                        throw AwsErrors.Map(ex);
                    }

                    _progress.Finished(step, deleting, id, _time.GetElapsedTime(started));
                }
            }
            catch
            {
                await failed.CancelAsync().ConfigureAwait(false); // one region failing stops the others at their next step
                throw;
            }
        }).ToList();
        await Task.WhenAll(regions).ConfigureAwait(false); // the failed region's exception, not the others' cancellation
    }

    private sealed record PlanStepContext(PlanStep Step, CancellationToken Token);

    /// <summary>One apply: the ids known so far (from discovery, then from every create).</summary>
    private sealed class Run(Executor owner, Plan plan, IReadOnlyDictionary<(string Region, string Parameter), string> amis)
    {
        private readonly ConcurrentDictionary<ResourceAddress, string> _ids = new(plan.KnownIds);

        private string Id(ResourceAddress address) =>
            _ids.TryGetValue(address, out var id) ? id : throw new InvalidOperationException($"{address} has no id yet: the plan is out of order (a bug).");

        private IReadOnlyDictionary<string, string> Tags(ResourceAddress address) => StackTags.For(plan.Stack, address);

        private Task Call(Func<CancellationToken, Task> call, CancellationToken ct) => owner._retry.RunAsync(call, ct);

        private Task<T> Call<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct) => owner._retry.RunAsync(call, ct);

        /// <summary>Deletes treat NotFound as done (already gone) and retry DependencyViolation, which AWS reports for a
        /// while after the dependant went (an instance's network interface outlives it by a few seconds).</summary>
        private async Task Delete(Func<CancellationToken, Task> call, CancellationToken ct)
        {
            try
            {
                await owner._retry.RunAsync(call, ct, ex => RetryPolicy.IsThrottling(ex) || ex.ErrorCode == "DependencyViolation").ConfigureAwait(false);
            }
            catch (AwsApiException ex) when (ex.ErrorCode.EndsWith(".NotFound", StringComparison.Ordinal))
            {
                // Already gone.
            }
        }

        public async Task<string?> DeleteAsync(PlanStepContext context)
        {
            var (step, ct) = context;
            var region = step.Resource.Region;
            var ec2 = owner._ports.Ec2(region);
            switch (step.Observed)
            {
                case ObservedAddress a:
                    if (a.AssociationId is { } addressAssociation)
                    {
                        await Delete(c => ec2.DisassociateAddressAsync(addressAssociation, c), ct).ConfigureAwait(false);
                    }

                    await Delete(c => ec2.ReleaseAddressAsync(a.Id, c), ct).ConfigureAwait(false);
                    break;
                case ObservedInstance i:
                    await Delete(c => ec2.TerminateInstanceAsync(i.Id, c), ct).ConfigureAwait(false);
                    await WaitInstanceAsync(ec2, i.Id, InstanceStates.Terminated, ct).ConfigureAwait(false);
                    break;
                case ObservedRouteEntry r:
                    await Delete(c => ec2.DeleteRouteAsync(r.RouteTableId, r.Route.Destination, c), ct).ConfigureAwait(false);
                    break;
                case ObservedPeering p:
                    await Delete(c => ec2.DeletePeeringAsync(p.Id, c), ct).ConfigureAwait(false);
                    break;
                case ObservedSecurityGroup g:
                    await Delete(c => ec2.DeleteSecurityGroupAsync(g.Id, c), ct).ConfigureAwait(false);
                    break;
                case ObservedRouteTable t:
                    foreach (var association in t.Associations.Where(a => !a.Main))
                    {
                        await Delete(c => ec2.DisassociateRouteTableAsync(association.AssociationId, c), ct).ConfigureAwait(false);
                    }

                    await Delete(c => ec2.DeleteRouteTableAsync(t.Id, c), ct).ConfigureAwait(false);
                    break;
                case ObservedInternetGateway g:
                    foreach (var vpc in g.AttachedVpcIds)
                    {
                        await Delete(c => ec2.DetachInternetGatewayAsync(g.Id, vpc, c), ct).ConfigureAwait(false);
                    }

                    await Delete(c => ec2.DeleteInternetGatewayAsync(g.Id, c), ct).ConfigureAwait(false);
                    break;
                case ObservedSubnet s:
                    await Delete(c => ec2.DeleteSubnetAsync(s.Id, c), ct).ConfigureAwait(false);
                    break;
                case ObservedVpc v:
                    await Delete(c => ec2.DeleteVpcAsync(v.Id, c), ct).ConfigureAwait(false);
                    break;
                case ObservedKeyPair k:
                    await Delete(c => ec2.DeleteKeyPairAsync(k.Id, c), ct).ConfigureAwait(false);
                    break;
                default:
                    throw new InvalidOperationException($"Cannot delete {step.Observed?.GetType().Name} (a bug).");
            }

            _ids.TryRemove(step.Resource, out _);
            return step.Observed!.Id;
        }

        public async Task<string?> CreateOrUpdateAsync(PlanStepContext context)
        {
            var (step, ct) = context;
            var creating = step.Action is PlanAction.Create or PlanAction.Replace;
            var address = step.Resource;
            var ec2 = owner._ports.Ec2(address.Region);
            string id;
            switch (step.Desired)
            {
                case DesiredKeyPair { PublicKey: { } publicKey } k:
                    id = await Call(c => ec2.ImportKeyPairAsync(k.KeyName, publicKey,
                        new Dictionary<string, string>(Tags(address)) { [KeyPairTags.PublicKeyHash] = KeyPairTags.HashOf(publicKey) }, c), ct).ConfigureAwait(false);
                    break;
                case DesiredVpc v:
                    var vpc = creating ? null : (ObservedVpc)step.Observed!;
                    id = vpc?.Id ?? await Call(c => ec2.CreateVpcAsync(v.Cidr, Tags(address), c), ct).ConfigureAwait(false);
                    if (vpc is not { DnsSupport: true })
                    {
                        await Call(c => ec2.SetVpcDnsSupportAsync(id, true, c), ct).ConfigureAwait(false);
                    }

                    if (vpc is not { DnsHostnames: true })
                    {
                        await Call(c => ec2.SetVpcDnsHostnamesAsync(id, true, c), ct).ConfigureAwait(false);
                    }

                    break;
                case DesiredSubnet s:
                    id = await Call(c => ec2.CreateSubnetAsync(Id(s.Vpc), s.Cidr, s.AvailabilityZone, Tags(address), c), ct).ConfigureAwait(false);
                    break;
                case DesiredInternetGateway g:
                    var igw = creating ? null : (ObservedInternetGateway)step.Observed!;
                    id = igw?.Id ?? await Call(c => ec2.CreateInternetGatewayAsync(Tags(address), c), ct).ConfigureAwait(false);
                    var vpcId = Id(g.Vpc);
                    foreach (var other in igw?.AttachedVpcIds.Where(v => v != vpcId) ?? [])
                    {
                        await Call(c => ec2.DetachInternetGatewayAsync(id, other, c), ct).ConfigureAwait(false);
                    }

                    if (igw is null || !igw.AttachedVpcIds.Contains(vpcId))
                    {
                        await Call(c => ec2.AttachInternetGatewayAsync(id, vpcId, c), ct).ConfigureAwait(false);
                    }

                    break;
                case DesiredRouteTable t:
                    var table = creating ? null : (ObservedRouteTable)step.Observed!;
                    id = table?.Id ?? await Call(c => ec2.CreateRouteTableAsync(Id(t.Vpc), Tags(address), c), ct).ConfigureAwait(false);
                    var subnetIds = t.Subnets.Select(Id).ToList();
                    foreach (var extra in table?.Associations.Where(a => !a.Main && !subnetIds.Contains(a.SubnetId!)) ?? [])
                    {
                        await Call(c => ec2.DisassociateRouteTableAsync(extra.AssociationId, c), ct).ConfigureAwait(false);
                    }

                    foreach (var subnetId in subnetIds.Where(s => table is null || !table.Associations.Any(a => a.SubnetId == s)))
                    {
                        await Call(c => ec2.AssociateRouteTableAsync(id, subnetId, c), ct).ConfigureAwait(false);
                    }

                    break;
                case DesiredSecurityGroup g:
                    var group = creating ? null : (ObservedSecurityGroup)step.Observed!;
                    id = group?.Id ?? await Call(c => ec2.CreateSecurityGroupAsync(Id(g.Vpc), g.GroupName, g.Description, Tags(address), c), ct).ConfigureAwait(false);
                    var diff = RuleDiff.Of(g, group);
                    if (diff.RemoveIngress.Count > 0)
                    {
                        await Call(c => ec2.RevokeIngressAsync(id, diff.RemoveIngress, c), ct).ConfigureAwait(false);
                    }

                    if (diff.AddIngress.Count > 0)
                    {
                        await Call(c => ec2.AuthorizeIngressAsync(id, diff.AddIngress, c), ct).ConfigureAwait(false);
                    }

                    if (diff.RemoveEgress.Count > 0)
                    {
                        await Call(c => ec2.RevokeEgressAsync(id, diff.RemoveEgress, c), ct).ConfigureAwait(false);
                    }

                    if (diff.AddEgress.Count > 0)
                    {
                        await Call(c => ec2.AuthorizeEgressAsync(id, diff.AddEgress, c), ct).ConfigureAwait(false);
                    }

                    break;
                case DesiredPeering p:
                    id = await PeeringAsync(ec2, p, creating ? null : (ObservedPeering)step.Observed!, ct).ConfigureAwait(false);
                    break;
                case DesiredRoute r:
                    var tableId = Id(r.RouteTable);
                    var targetId = Id(r.Target);
                    var target = r.Target.Kind == ResourceKind.Peering ? RouteTarget.Peering(targetId) : RouteTarget.Gateway(targetId);
                    if (r.Target.Kind == ResourceKind.Peering)
                    {
                        await WaitPeeringActiveAsync(owner._ports.Ec2(r.Target.Region), targetId, ct).ConfigureAwait(false);
                    }

                    if (step.Action == PlanAction.Update)
                    {
                        await Call(c => ec2.ReplaceRouteAsync(tableId, r.Destination, target, c), ct).ConfigureAwait(false);
                    }
                    else
                    {
                        try
                        {
                            await Call(c => ec2.CreateRouteAsync(tableId, r.Destination, target, c), ct).ConfigureAwait(false);
                        }
                        catch (AwsApiException ex) when (ex.ErrorCode == "RouteAlreadyExists")
                        {
                            // A retried CreateRoute whose first attempt went through: make sure it points where it should.
                            await Call(c => ec2.ReplaceRouteAsync(tableId, r.Destination, target, c), ct).ConfigureAwait(false);
                        }
                    }

                    id = $"{tableId}:{r.Destination}";
                    break;
                case DesiredInstance i:
                    var instance = creating ? null : (ObservedInstance)step.Observed!;
                    id = instance?.Id ?? await Call(c => ec2.RunInstanceAsync(new InstanceLaunch
                    {
                        ImageId = i.Ami ?? amis[(address.Region, i.AmiParameter)],
                        InstanceType = i.InstanceType,
                        SubnetId = Id(i.Subnet),
                        PrivateIp = i.PrivateIp,
                        SecurityGroupIds = [Id(i.SecurityGroup)],
                        AssociatePublicIp = i.PublicIpOnLaunch,
                        UserData = i.UserData,
                        KeyName = i.KeyPair is null ? null : DesiredStateBuilder.KeyNameOf(plan.Stack),
                        InstanceProfile = i.InstanceProfile,
                        Tags = new Dictionary<string, string>(Tags(address)) { [StackTags.UserDataHash] = i.UserDataHash },
                        ClientToken = $"egress-{owner._options.RunId}-{address.Region}-{address.Name}",
                    }, c), ct).ConfigureAwait(false);
                    if (instance is null || instance.SourceDestCheck != i.SourceDestCheck)
                    {
                        await WaitInstanceAsync(ec2, id, InstanceStates.Running, ct).ConfigureAwait(false);
                        if (!i.SourceDestCheck)
                        {
                            await Call(c => ec2.SetSourceDestCheckAsync(id, false, c), ct).ConfigureAwait(false);
                        }
                        else if (instance is not null)
                        {
                            await Call(c => ec2.SetSourceDestCheckAsync(id, true, c), ct).ConfigureAwait(false);
                        }
                    }

                    break;
                case DesiredElasticIp e:
                    var address2 = creating ? null : (ObservedAddress)step.Observed!;
                    id = address2?.Id ?? await Call(c => ec2.AllocateAddressAsync(Tags(address), c), ct).ConfigureAwait(false);
                    var instanceId = Id(e.Instance);
                    if (address2?.InstanceId != instanceId)
                    {
                        await WaitInstanceAsync(ec2, instanceId, InstanceStates.Running, ct).ConfigureAwait(false);
                        await Call(c => ec2.AssociateAddressAsync(id, instanceId, c), ct).ConfigureAwait(false);
                    }

                    break;
                default:
                    throw new InvalidOperationException($"Cannot apply {step.Desired?.GetType().Name} (a bug).");
            }

            _ids[address] = id;
            return id;
        }

        private async Task<string> PeeringAsync(IEc2Port requester, DesiredPeering p, ObservedPeering? observed, CancellationToken ct)
        {
            var accepter = owner._ports.Ec2(p.AccepterRegion);
            var id = observed?.Id ?? await Call(c => requester.CreatePeeringAsync(Id(p.RequesterVpc), Id(p.AccepterVpc), p.AccepterRegion,
                Tags(p.Address), c), ct).ConfigureAwait(false);
            var current = observed ?? await WaitPeeringAsync(requester, id, s => s != PeeringStates.InitiatingRequest, "leaves initiating-request", ct).ConfigureAwait(false);
            if (current.Status == PeeringStates.PendingAcceptance)
            {
                await Call(c => accepter.AcceptPeeringAsync(id, c), ct).ConfigureAwait(false);
            }

            current = await WaitPeeringActiveAsync(requester, id, ct).ConfigureAwait(false);
            if (!current.RequesterAllowsDns)
            {
                await Call(c => requester.AllowPeeringDnsAsync(id, requesterSide: true, c), ct).ConfigureAwait(false);
            }

            if (!current.AccepterAllowsDns)
            {
                await Call(c => accepter.AllowPeeringDnsAsync(id, requesterSide: false, c), ct).ConfigureAwait(false);
            }

            return id;
        }

        private Task<ObservedPeering> WaitPeeringActiveAsync(IEc2Port ec2, string id, CancellationToken ct) =>
            WaitPeeringAsync(ec2, id, s => s == PeeringStates.Active, "is active", ct);

        private async Task<ObservedPeering> WaitPeeringAsync(IEc2Port ec2, string id, Func<string, bool> done, string what, CancellationToken ct)
        {
            var deadline = owner._time.GetUtcNow() + owner._options.PeeringTimeout;
            var noted = false;
            while (true)
            {
                var peering = await Call(c => ec2.DescribePeeringAsync(id, c), ct).ConfigureAwait(false);
                if (peering is not null && done(peering.Status))
                {
                    return peering;
                }

                if (peering is not null && PeeringStates.IsGone(peering.Status))
                {
                    var message = peering.StatusMessage ?? peering.Status;
                    throw AwsErrors.Map(new AwsApiException(
                        message.Contains("overlap", StringComparison.OrdinalIgnoreCase) ? "InvalidVpcPeeringConnection.OverlappingCidr" : "VpcPeeringConnectionFailed",
                        $"peering {id} is {peering.Status}: {message}", "CreateVpcPeeringConnection", ec2.Region));
                }

                if (owner._time.GetUtcNow() >= deadline)
                {
                    throw new AwsProvisionException(AwsErrorKind.Timeout, "DescribeVpcPeeringConnections", ec2.Region,
                        $"peering {id} is still {peering?.Status ?? "not visible"} after {owner._options.PeeringTimeout.TotalMinutes:0} minutes",
                        "look at the peering in the AWS console of both regions, then run apply again (it resumes)");
                }

                if (!noted)
                {
                    owner._progress.Note(ec2.Region, $"waiting until peering {id} {what} (now {peering?.Status ?? "not visible yet"})");
                    noted = true;
                }

                await Task.Delay(owner._options.PollInterval, owner._time, ct).ConfigureAwait(false);
            }
        }

        private async Task WaitInstanceAsync(IEc2Port ec2, string id, string state, CancellationToken ct)
        {
            var deadline = owner._time.GetUtcNow() + owner._options.InstanceTimeout;
            var noted = false;
            while (true)
            {
                var instance = await Call(c => ec2.DescribeInstanceAsync(id, c), ct).ConfigureAwait(false);
                if (instance?.State == state || (instance is null && state == InstanceStates.Terminated))
                {
                    return;
                }

                if (state == InstanceStates.Running && instance is not null && InstanceStates.IsGone(instance.State))
                {
                    throw new AwsProvisionException(AwsErrorKind.Other, "RunInstances", ec2.Region,
                        $"instance {id} went to {instance.State} instead of running",
                        "read its console output (EC2 console: Actions > Monitor > Get system log), fix the cause, and run apply again");
                }

                if (owner._time.GetUtcNow() >= deadline)
                {
                    throw new AwsProvisionException(AwsErrorKind.Timeout, "DescribeInstances", ec2.Region,
                        $"instance {id} is still {instance?.State ?? "not visible"} after {owner._options.InstanceTimeout.TotalMinutes:0} minutes",
                        "look at the instance in the EC2 console, then run the command again (it resumes)");
                }

                if (!noted)
                {
                    owner._progress.Note(ec2.Region, $"waiting until instance {id} is {state} (now {instance?.State ?? "not visible yet"})");
                    noted = true;
                }

                await Task.Delay(owner._options.PollInterval, owner._time, ct).ConfigureAwait(false);
            }
        }
    }
}
