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

/// <summary>Runs a plan's operations, and only those: first every step's teardown (deletes, and the delete half of each
/// replace) from the last kind to the first, then every step's other operations from the first kind to the last; it resolves
/// the ids of resources created on the way, waits and retries, and decides nothing about what AWS should hold. Within one kind the regions run concurrently;
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
        var wanted = plan.Steps.SelectMany(s => s.Operations).OfType<RunInstance>().Where(i => i.ImageId is null)
            .Select(i => (i.Region, i.AmiParameter)).Distinct().ToList();
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
        var deletes = plan.Steps.Where(s => s.Teardown.Count > 0);
        foreach (var rank in deletes.GroupBy(s => s.Resource.Kind).OrderByDescending(g => g.Key))
        {
            await RunRankAsync(rank, step => run.TeardownAsync(step), deleting: true, cancellationToken).ConfigureAwait(false);
        }

        var creates = plan.Steps.Where(s => s.Action != PlanAction.Delete);
        foreach (var rank in creates.GroupBy(s => s.Resource.Kind).OrderBy(g => g.Key))
        {
            await RunRankAsync(rank, step => run.BuildAsync(step), deleting: false, cancellationToken).ConfigureAwait(false);
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

    /// <summary>One apply: the ids known so far (from discovery, then from every create), and the runner of each operation.</summary>
    private sealed class Run(Executor owner, Plan plan, IReadOnlyDictionary<(string Region, string Parameter), string> amis)
    {
        private readonly ConcurrentDictionary<ResourceAddress, string> _ids = new(plan.KnownIds);

        private string Id(ResourceRef reference) =>
            reference.Id ?? (_ids.TryGetValue(reference.Address!, out var id) ? id
                : throw new InvalidOperationException($"{reference.Address} has no id yet: the plan is out of order (a bug)."));

        private Task Call(Func<CancellationToken, Task> call, CancellationToken ct) => owner._retry.RunAsync(call, ct);

        private Task<T> Call<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct) => owner._retry.RunAsync(call, ct);

        /// <summary>The delete phase of a step: treats NotFound as done (already gone) and retries DependencyViolation, which AWS
        /// reports for a while after the dependant went (an instance's network interface outlives it by a few seconds).</summary>
        public async Task<string?> TeardownAsync(PlanStepContext context)
        {
            var (step, ct) = context;
            foreach (var operation in step.Teardown)
            {
                try
                {
                    await owner._retry.RunAsync(c => RunAsync(operation, c), ct, ex => RetryPolicy.IsThrottling(ex) || ex.ErrorCode == "DependencyViolation")
                        .ConfigureAwait(false);
                }
                catch (AwsApiException ex) when (ex.ErrorCode.EndsWith(".NotFound", StringComparison.Ordinal))
                {
                    // Already gone.
                }
            }

            _ids.TryRemove(step.Resource, out _);
            return step.Observed?.Id;
        }

        /// <summary>The create-and-update phase of a step: its operations in order, each call retried as the policy says.</summary>
        public async Task<string?> BuildAsync(PlanStepContext context)
        {
            var (step, ct) = context;
            foreach (var operation in step.Operations)
            {
                await RunAsync(operation, ct, retried: true).ConfigureAwait(false);
            }

            return _ids.GetValueOrDefault(step.Resource);
        }

        /// <summary>Runs one operation once (the teardown's retry wraps it whole).</summary>
        private Task RunAsync(AwsOperation operation, CancellationToken ct) => RunAsync(operation, ct, retried: false);

        private async Task RunAsync(AwsOperation operation, CancellationToken ct, bool retried)
        {
            var ec2 = owner._ports.Ec2(operation.Region);
            Task Do(Func<CancellationToken, Task> call) => retried ? Call(call, ct) : call(ct);
            Task<T> Get<T>(Func<CancellationToken, Task<T>> call) => retried ? Call(call, ct) : call(ct);
            string? created = null;
            switch (operation)
            {
                case ImportKeyPair k:
                    created = await Get(c => ec2.ImportKeyPairAsync(k.KeyName, k.PublicKey, k.Tags, c)).ConfigureAwait(false);
                    break;
                case DeleteKeyPair k:
                    await Do(c => ec2.DeleteKeyPairAsync(k.KeyPairId, c)).ConfigureAwait(false);
                    break;
                case CreateVpc v:
                    created = await Get(c => ec2.CreateVpcAsync(v.Cidr, v.Tags, c)).ConfigureAwait(false);
                    break;
                case SetVpcDns { Hostnames: false } v:
                    await Do(c => ec2.SetVpcDnsSupportAsync(Id(v.Vpc), v.Enabled, c)).ConfigureAwait(false);
                    break;
                case SetVpcDns v:
                    await Do(c => ec2.SetVpcDnsHostnamesAsync(Id(v.Vpc), v.Enabled, c)).ConfigureAwait(false);
                    break;
                case DeleteVpc v:
                    await Do(c => ec2.DeleteVpcAsync(v.VpcId, c)).ConfigureAwait(false);
                    break;
                case CreateSubnet s:
                    created = await Get(c => ec2.CreateSubnetAsync(Id(s.Vpc), s.Cidr, s.AvailabilityZone, s.Tags, c)).ConfigureAwait(false);
                    break;
                case DeleteSubnet s:
                    await Do(c => ec2.DeleteSubnetAsync(s.SubnetId, c)).ConfigureAwait(false);
                    break;
                case CreateInternetGateway g:
                    created = await Get(c => ec2.CreateInternetGatewayAsync(g.Tags, c)).ConfigureAwait(false);
                    break;
                case AttachInternetGateway g:
                    await Do(c => ec2.AttachInternetGatewayAsync(Id(g.Gateway), Id(g.Vpc), c)).ConfigureAwait(false);
                    break;
                case DetachInternetGateway g:
                    await Do(c => ec2.DetachInternetGatewayAsync(Id(g.Gateway), g.VpcId, c)).ConfigureAwait(false);
                    break;
                case DeleteInternetGateway g:
                    await Do(c => ec2.DeleteInternetGatewayAsync(g.GatewayId, c)).ConfigureAwait(false);
                    break;
                case CreateRouteTable t:
                    created = await Get(c => ec2.CreateRouteTableAsync(Id(t.Vpc), t.Tags, c)).ConfigureAwait(false);
                    break;
                case AssociateRouteTable t:
                    await Get(c => ec2.AssociateRouteTableAsync(Id(t.RouteTable), Id(t.Subnet), c)).ConfigureAwait(false);
                    break;
                case DisassociateRouteTable t:
                    await Do(c => ec2.DisassociateRouteTableAsync(t.AssociationId, c)).ConfigureAwait(false);
                    break;
                case DeleteRouteTable t:
                    await Do(c => ec2.DeleteRouteTableAsync(t.RouteTableId, c)).ConfigureAwait(false);
                    break;
                case PutRoute r:
                    created = await PutRouteAsync(ec2, r, Do).ConfigureAwait(false);
                    break;
                case DeleteRoute r:
                    await Do(c => ec2.DeleteRouteAsync(r.RouteTableId, r.Destination, c)).ConfigureAwait(false);
                    break;
                case CreateSecurityGroup g:
                    created = await Get(c => ec2.CreateSecurityGroupAsync(Id(g.Vpc), g.GroupName, g.Description, g.Tags, c)).ConfigureAwait(false);
                    break;
                case ChangeSecurityGroupRules g:
                    var groupId = Id(g.Group);
                    await Do(c => (g.Ingress, g.Authorize) switch
                    {
                        (true, true) => ec2.AuthorizeIngressAsync(groupId, g.Rules, c),
                        (true, false) => ec2.RevokeIngressAsync(groupId, g.Rules, c),
                        (false, true) => ec2.AuthorizeEgressAsync(groupId, g.Rules, c),
                        (false, false) => ec2.RevokeEgressAsync(groupId, g.Rules, c),
                    }).ConfigureAwait(false);
                    break;
                case DeleteSecurityGroup g:
                    await Do(c => ec2.DeleteSecurityGroupAsync(g.GroupId, c)).ConfigureAwait(false);
                    break;
                case CreatePeering p:
                    created = await Get(c => ec2.CreatePeeringAsync(Id(p.RequesterVpc), Id(p.AccepterVpc), p.AccepterRegion, p.Tags, c)).ConfigureAwait(false);
                    await WaitPeeringAsync(ec2, created, s => s != PeeringStates.InitiatingRequest, "leaves initiating-request", ct).ConfigureAwait(false);
                    break;
                case AcceptPeering p:
                    await Do(c => ec2.AcceptPeeringAsync(Id(p.Peering), c)).ConfigureAwait(false);
                    break;
                case WaitPeeringActive p:
                    await WaitPeeringAsync(ec2, Id(p.Peering), s => s == PeeringStates.Active, "is active", ct).ConfigureAwait(false);
                    break;
                case AllowPeeringDns p:
                    await Do(c => ec2.AllowPeeringDnsAsync(Id(p.Peering), p.RequesterSide, c)).ConfigureAwait(false);
                    break;
                case DeletePeering p:
                    await Do(c => ec2.DeletePeeringAsync(p.PeeringId, c)).ConfigureAwait(false);
                    break;
                case RunInstance i:
                    created = await Get(c => ec2.RunInstanceAsync(new InstanceLaunch
                    {
                        ImageId = i.ImageId ?? amis[(i.Region, i.AmiParameter)],
                        InstanceType = i.InstanceType,
                        SubnetId = Id(i.Subnet),
                        PrivateIp = i.PrivateIp,
                        SecurityGroupIds = [Id(i.SecurityGroup)],
                        AssociatePublicIp = i.AssociatePublicIp,
                        UserData = i.UserData,
                        KeyName = i.KeyName,
                        InstanceProfile = i.InstanceProfile,
                        Tags = i.Tags,
                        ClientToken = $"egress-{owner._options.RunId}-{i.Region}-{i.Address.Name}",
                    }, c)).ConfigureAwait(false);
                    await WaitInstanceAsync(ec2, created, InstanceStates.Running, ct).ConfigureAwait(false);
                    break;
                case WaitInstanceRunning i:
                    await WaitInstanceAsync(ec2, Id(i.Instance), InstanceStates.Running, ct).ConfigureAwait(false);
                    break;
                case SetSourceDestCheck i:
                    await Do(c => ec2.SetSourceDestCheckAsync(Id(i.Instance), i.Enabled, c)).ConfigureAwait(false);
                    break;
                case TerminateInstance i:
                    await Do(c => ec2.TerminateInstanceAsync(i.InstanceId, c)).ConfigureAwait(false);
                    await WaitInstanceAsync(ec2, i.InstanceId, InstanceStates.Terminated, ct).ConfigureAwait(false);
                    break;
                case AllocateAddress a:
                    created = await Get(c => ec2.AllocateAddressAsync(a.Tags, c)).ConfigureAwait(false);
                    break;
                case AssociateAddress a:
                    await Get(c => ec2.AssociateAddressAsync(Id(a.Allocation), Id(a.Instance), c)).ConfigureAwait(false);
                    break;
                case DisassociateAddress a:
                    await Do(c => ec2.DisassociateAddressAsync(a.AssociationId, c)).ConfigureAwait(false);
                    break;
                case ReleaseAddress a:
                    await Do(c => ec2.ReleaseAddressAsync(a.AllocationId, c)).ConfigureAwait(false);
                    break;
                default:
                    throw new InvalidOperationException($"Cannot run {operation.GetType().Name} (a bug).");
            }

            if (operation.Creates is { } address && created is not null)
            {
                _ids[address] = created;
            }
        }

        /// <summary>A route's id is table:destination. A CreateRoute that finds the route already there (a retried call whose
        /// first attempt went through) replaces it, so it points where it should.</summary>
        private async Task<string> PutRouteAsync(IEc2Port ec2, PutRoute r, Func<Func<CancellationToken, Task>, Task> call)
        {
            var tableId = Id(r.RouteTable);
            var targetId = Id(r.Target);
            var target = r.ToPeering ? RouteTarget.Peering(targetId) : RouteTarget.Gateway(targetId);
            if (r.Replace)
            {
                await call(c => ec2.ReplaceRouteAsync(tableId, r.Destination, target, c)).ConfigureAwait(false);
            }
            else
            {
                try
                {
                    await call(c => ec2.CreateRouteAsync(tableId, r.Destination, target, c)).ConfigureAwait(false);
                }
                catch (AwsApiException ex) when (ex.ErrorCode == "RouteAlreadyExists")
                {
                    await call(c => ec2.ReplaceRouteAsync(tableId, r.Destination, target, c)).ConfigureAwait(false);
                }
            }

            return $"{tableId}:{r.Destination}";
        }

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
