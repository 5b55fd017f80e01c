using Egress.Aws.Model;
using Egress.Aws.Ports;
using Egress.Core.Net;

namespace Egress.Aws.Testing;

/// <summary>How the fake misbehaves and what it allows.</summary>
public sealed class FakeAwsOptions
{
    /// <summary>Every Nth call (reads and mutations alike) fails with RequestLimitExceeded; 0 = never.</summary>
    public int ThrottleEvery { get; set; }

    /// <summary>The first N calls that name a resource created moments ago fail with InvalidXxx.NotFound (eventual consistency).</summary>
    public int NotFoundAfterCreate { get; set; }

    /// <summary>Right after the Nth successful mutating call, throw <see cref="SimulatedCrashException"/>: the change is
    /// made and the caller never learns it, as when the process is killed; null = never.</summary>
    public int? CrashAfterMutations { get; set; }

    /// <summary>How many times an instance is observed pending (or shutting-down) before it is running (terminated).</summary>
    public int InstancePolls { get; set; } = 1;

    /// <summary>How many times an accepted peering is observed provisioning before it is active.</summary>
    public int PeeringPolls { get; set; } = 1;

    public int VpcQuota { get; set; } = 5;

    public int AddressQuota { get; set; } = 5;

    /// <summary>Actions (e.g. "RunInstances") the caller is not allowed: UnauthorizedOperation.</summary>
    public HashSet<string> DeniedActions { get; } = new(StringComparer.Ordinal);

    /// <summary>The regions enabled for the account (DescribeRegions); a call to any other region fails with OptInRequired.
    /// Default: every region egress knows.</summary>
    public HashSet<string> EnabledRegions { get; } = new(Core.AwsRegions.All.Select(r => r.Code), StringComparer.Ordinal);

    /// <summary>Called with (action, region) before each call, outside the fake's lock: a test can hold one run at a
    /// chosen call while another run goes on (e.g. to make two applies overlap for certain).</summary>
    public Action<string, string>? BeforeCall { get; set; }

    /// <summary>Every call fails as if the SDK found no credentials.</summary>
    public bool NoCredentials { get; set; }

    /// <summary>Behave like an emulator that ignores describe filters (moto 4.2.14 does for DescribeVpcPeeringConnections):
    /// every Describe* by stack, and DescribeTags, return every resource of the region, whatever its egress:stack tag. AWS
    /// itself honours the filters; this proves egress checks the tag value client side.</summary>
    public bool IgnoreTagFilters { get; set; }
}

/// <summary>Thrown by the fake right after the mutation named by <see cref="FakeAwsOptions.CrashAfterMutations"/>:
/// the change is made, the caller never learns it — as when the process is killed.</summary>
public sealed class SimulatedCrashException(int mutation) : Exception($"Simulated crash after mutating call {mutation}.")
{
    public int Mutation { get; } = mutation;
}

/// <summary>An in-memory AWS (EC2 + SSM) for every region, enforcing the rules egress depends on: peering accepted in the
/// accepter region and active before routes use it; overlapping peered CIDRs fail; deleting what still has dependants fails
/// (DependencyViolation); routes to missing targets fail; protocol-number rules need ports -1; optional throttling, eventual
/// consistency and crashes. It counts read and mutating calls.</summary>
public sealed partial class FakeAwsCloud : IAwsPorts
{
    private readonly object _gate = new();
    private readonly Dictionary<string, FakeEc2> _ec2 = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FakeSsm> _ssm = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _fresh = new(StringComparer.Ordinal);
    private readonly List<(string Region, string Action)> _mutations = [];
    private long _nextId = 0x1000;
    private int _callNumber;
    private int _nextPublic = 10;
    private int _nextElastic = 10;

    public FakeAwsCloud()
    {
        foreach (var region in Core.AwsRegions.All)
        {
            foreach (var arch in new[] { Core.Topology.CpuArchitecture.Amd64, Core.Topology.CpuArchitecture.Arm64 })
            {
                Parameters[(region.Code, AmiSource.ParameterFor(arch))] = $"ami-{AmiSource.ArchName(arch)}{region.Code.Sum(c => c) * 7919 % 100000:d5}";
            }
        }
    }

    public FakeAwsOptions Options { get; } = new();

    /// <summary>SSM parameters per region; every region has Canonical's Ubuntu 22.04 parameters unless a test removes them.</summary>
    public Dictionary<(string Region, string Name), string> Parameters { get; } = [];

    /// <summary>What the hosts answer to SSM Run Command: (instance id, script lines) -> (exit code, stdout, stderr).</summary>
    public Func<string, IReadOnlyList<string>, (int ExitCode, string Stdout, string Stderr)> SsmHandler { get; set; } =
        (_, _) => (0, string.Empty, string.Empty);

    public int MutatingCalls { get; private set; }

    public int ReadCalls { get; private set; }

    public int ThrottledCalls { get; private set; }

    public int NotFoundCalls { get; private set; }

    /// <summary>Accepted calls by AWS action name.</summary>
    public IReadOnlyDictionary<string, int> Calls
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, int>(_calls);
            }
        }
    }

    /// <summary>Every accepted mutating call since the last <see cref="ResetCounters"/>, in order: its region and AWS action.</summary>
    public IReadOnlyList<(string Region, string Action)> MutationLog
    {
        get
        {
            lock (_gate)
            {
                return [.. _mutations];
            }
        }
    }

    /// <summary>Makes two runs overlap for certain: the first RunInstances waits (up to <paramref name="timeout"/>, a minute
    /// by default) until a second run has tried to take a stack lock that is held (a PutParameter in a region where a
    /// <c>/egress/lock/</c> parameter exists). Two runs that never contend for one lock parameter (the bug of a lock taken
    /// in each file's first region) time out here.</summary>
    public void HoldTheFirstLaunchUntilASecondLockAttempt(TimeSpan? timeout = null)
    {
        var secondAttempt = new ManualResetEventSlim();
        Options.BeforeCall = (action, region) =>
        {
            if (action == "PutParameter")
            {
                lock (_gate)
                {
                    if (Parameters.Keys.Any(k => k.Region == region && k.Name.StartsWith("/egress/lock/", StringComparison.Ordinal)))
                    {
                        secondAttempt.Set();
                    }
                }
            }
            else if (action == "RunInstances" && !secondAttempt.Wait(timeout ?? TimeSpan.FromMinutes(1)))
            {
                throw new TimeoutException("no second run tried to take a stack lock that was held");
            }
        };
    }

    public void ResetCounters()
    {
        lock (_gate)
        {
            MutatingCalls = ReadCalls = ThrottledCalls = NotFoundCalls = 0;
            _calls.Clear();
            _mutations.Clear();
        }
    }

    public IEc2Port Ec2(string region)
    {
        lock (_gate)
        {
            if (!_ec2.TryGetValue(region, out var port))
            {
                _ec2[region] = port = new FakeEc2(this, region);
            }

            return port;
        }
    }

    public ISsmPort Ssm(string region)
    {
        lock (_gate)
        {
            if (!_ssm.TryGetValue(region, out var port))
            {
                _ssm[region] = port = new FakeSsm(this, region);
            }

            return port;
        }
    }

    /// <summary>Every resource the fake holds that is not gone (terminated instances, deleted peerings, main route tables
    /// and default security groups excluded), with its tags: what "nothing left" is checked against.</summary>
    public IReadOnlyList<(string Region, string Id, IReadOnlyDictionary<string, string> Tags)> LiveResources()
    {
        lock (_gate)
        {
            var all = new List<(string, string, IReadOnlyDictionary<string, string>)>();
            all.AddRange(Vpcs.Select(v => (v.Region, v.Id, (IReadOnlyDictionary<string, string>)v.Tags)));
            all.AddRange(Subnets.Select(v => (v.Region, v.Id, (IReadOnlyDictionary<string, string>)v.Tags)));
            all.AddRange(Gateways.Select(v => (v.Region, v.Id, (IReadOnlyDictionary<string, string>)v.Tags)));
            all.AddRange(RouteTables.Where(t => !t.Main).Select(v => (v.Region, v.Id, (IReadOnlyDictionary<string, string>)v.Tags)));
            all.AddRange(Groups.Where(g => !g.Default).Select(v => (v.Region, v.Id, (IReadOnlyDictionary<string, string>)v.Tags)));
            all.AddRange(Instances.Where(i => i.State != InstanceStates.Terminated).Select(v => (v.Region, v.Id, (IReadOnlyDictionary<string, string>)v.Tags)));
            all.AddRange(Addresses.Select(v => (v.Region, v.Id, (IReadOnlyDictionary<string, string>)v.Tags)));
            all.AddRange(Peerings.Where(p => !PeeringStates.IsGone(p.Status)).Select(v => (v.RequesterRegion, v.Id, (IReadOnlyDictionary<string, string>)v.Tags)));
            all.AddRange(KeyPairs.Select(v => (v.Region, v.Id, (IReadOnlyDictionary<string, string>)v.Tags)));
            return all;
        }
    }

    /// <summary>Instance details the port does not return but tests check (user data, root volume, metadata options).</summary>
    public FakeInstanceRecord? InstanceRecord(string instanceId)
    {
        lock (_gate)
        {
            var i = Instances.FirstOrDefault(x => x.Id == instanceId);
            return i is null ? null : new FakeInstanceRecord(i.UserData, i.HttpTokens, i.RootEncrypted, i.RootVolumeType, i.ImageId, i.ConsoleOutput);
        }
    }

    /// <summary>Sets what GetConsoleOutput returns for an instance (e.g. cloud-init's host key fingerprints).</summary>
    public void SetConsoleOutput(string instanceId, string text)
    {
        lock (_gate)
        {
            Instances.First(x => x.Id == instanceId).ConsoleOutput = text;
        }
    }

    internal List<VpcState> Vpcs { get; } = [];
    internal List<SubnetState> Subnets { get; } = [];
    internal List<GatewayState> Gateways { get; } = [];
    internal List<RouteTableState> RouteTables { get; } = [];
    internal List<GroupState> Groups { get; } = [];
    internal List<InstanceState> Instances { get; } = [];
    internal List<AddressState> Addresses { get; } = [];
    internal List<PeeringState> Peerings { get; } = [];
    internal List<KeyPairState> KeyPairs { get; } = [];
    internal List<SsmCommandState> Commands { get; } = [];

    internal string NewId(string prefix) => $"{prefix}-{_nextId++:x17}";

    internal string NextPublicIp() => $"203.0.113.{_nextPublic++}";

    internal string NextElasticIp() => $"198.51.100.{_nextElastic++}";

    internal void MarkFresh(string id)
    {
        if (Options.NotFoundAfterCreate > 0)
        {
            _fresh[id] = Options.NotFoundAfterCreate;
        }
    }

    /// <summary>Fails like eventual consistency when <paramref name="id"/> was created moments ago.</summary>
    internal void Touch(string id, string code, string action, string region)
    {
        if (_fresh.TryGetValue(id, out var left) && left > 0)
        {
            _fresh[id] = left - 1;
            NotFoundCalls++;
            throw new AwsApiException(code, $"The ID '{id}' does not exist", action, region);
        }
    }

    internal T Call<T>(string action, string region, bool mutating, Func<T> body)
    {
        Options.BeforeCall?.Invoke(action, region);
        lock (_gate)
        {
            _callNumber++;
            if (Options.NoCredentials)
            {
                throw new AwsApiException(Execution.AwsErrors.NoCredentials, "Failed to resolve AWS credentials.", action, region);
            }

            if (!Options.EnabledRegions.Contains(region))
            {
                throw new AwsApiException("OptInRequired", $"You are not subscribed to this service in {region}: the region is not enabled for the account.", action, region);
            }

            if (Options.DeniedActions.Contains(action))
            {
                throw new AwsApiException("UnauthorizedOperation", $"You are not authorized to perform this operation. User is not authorized to perform: ec2:{action}", action, region);
            }

            if (Options.ThrottleEvery > 0 && _callNumber % Options.ThrottleEvery == 0)
            {
                ThrottledCalls++;
                throw new AwsApiException("RequestLimitExceeded", "Request limit exceeded.", action, region);
            }

            var result = body();
            _calls[action] = _calls.GetValueOrDefault(action) + 1;
            if (!mutating)
            {
                ReadCalls++;
                return result;
            }

            MutatingCalls++;
            _mutations.Add((region, action));
            if (Options.CrashAfterMutations == MutatingCalls)
            {
                throw new SimulatedCrashException(MutatingCalls);
            }

            return result;
        }
    }

    internal static bool Overlaps(string a, string b) => Ipv4Cidr.Parse(a).Overlaps(Ipv4Cidr.Parse(b));

    /// <summary>AWS's tag filter <c>tag:egress:stack=STACK</c>: the exact value. With <see cref="FakeAwsOptions.IgnoreTagFilters"/>
    /// every resource matches, as moto 4.2.14 answers DescribeVpcPeeringConnections.</summary>
    internal bool TagsMatch(IReadOnlyDictionary<string, string> tags, string stack) =>
        Options.IgnoreTagFilters || (tags.TryGetValue(StackTags.Stack, out var value) && value == stack);

    internal sealed class VpcState
    {
        public required string Id { get; init; }
        public required string Region { get; init; }
        public required string Cidr { get; init; }
        public bool DnsSupport { get; set; } = true;
        public bool DnsHostnames { get; set; }
        public required Dictionary<string, string> Tags { get; init; }
    }

    internal sealed class SubnetState
    {
        public required string Id { get; init; }
        public required string Region { get; init; }
        public required string VpcId { get; init; }
        public required string Cidr { get; init; }
        public required string Az { get; init; }
        public required Dictionary<string, string> Tags { get; init; }
    }

    internal sealed class GatewayState
    {
        public required string Id { get; init; }
        public required string Region { get; init; }
        public string? VpcId { get; set; }
        public required Dictionary<string, string> Tags { get; init; }
    }

    internal sealed class RouteTableState
    {
        public required string Id { get; init; }
        public required string Region { get; init; }
        public required string VpcId { get; init; }
        public bool Main { get; init; }
        public List<(string Destination, string Target)> Routes { get; } = [];
        public List<(string AssociationId, string? SubnetId)> Associations { get; } = [];
        public required Dictionary<string, string> Tags { get; init; }
    }

    internal sealed class GroupState
    {
        public required string Id { get; init; }
        public required string Region { get; init; }
        public required string VpcId { get; init; }
        public required string Name { get; init; }
        public bool Default { get; init; }
        public List<SecurityGroupRule> Ingress { get; } = [];
        public List<SecurityGroupRule> Egress { get; } = [];
        public required Dictionary<string, string> Tags { get; init; }
    }

    internal sealed class InstanceState
    {
        public required string Id { get; init; }
        public required string Region { get; init; }
        public string State { get; set; } = InstanceStates.Pending;
        public int Polls { get; set; }
        public required string InstanceType { get; init; }
        public required string ImageId { get; init; }
        public required string SubnetId { get; init; }
        public required string VpcId { get; init; }
        public required string PrivateIp { get; init; }
        public string? PublicIp { get; set; }
        public string? AutoPublicIp { get; init; }
        public required List<string> GroupIds { get; init; }
        public bool SourceDestCheck { get; set; } = true;
        public string? KeyName { get; init; }
        public string? Profile { get; init; }
        public required string UserData { get; init; }
        public string HttpTokens { get; init; } = "required";
        public bool RootEncrypted { get; init; }
        public string RootVolumeType { get; init; } = "gp3";
        public string? ClientToken { get; init; }
        public string ConsoleOutput { get; set; } = string.Empty;
        public required Dictionary<string, string> Tags { get; init; }
    }

    internal sealed class AddressState
    {
        public required string Id { get; init; }
        public required string Region { get; init; }
        public required string PublicIp { get; init; }
        public string? InstanceId { get; set; }
        public string? AssociationId { get; set; }
        public required Dictionary<string, string> Tags { get; init; }
    }

    internal sealed class PeeringState
    {
        public required string Id { get; init; }
        public required string RequesterRegion { get; init; }
        public required string RequesterVpcId { get; init; }
        public required string AccepterRegion { get; init; }
        public required string AccepterVpcId { get; init; }
        public string Status { get; set; } = PeeringStates.PendingAcceptance;
        public string? Message { get; set; }
        public int Polls { get; set; }
        public bool RequesterDns { get; set; }
        public bool AccepterDns { get; set; }
        public required Dictionary<string, string> Tags { get; init; }
    }

    internal sealed class KeyPairState
    {
        public required string Id { get; init; }
        public required string Region { get; init; }
        public required string Name { get; init; }
        public required string PublicKey { get; init; }
        public required Dictionary<string, string> Tags { get; init; }
    }

    internal sealed class SsmCommandState
    {
        public required string Id { get; init; }
        public required string InstanceId { get; init; }
        public required IReadOnlyList<string> Script { get; init; }
        public int Polls { get; set; }
        public (int ExitCode, string Stdout, string Stderr) Result { get; set; }
    }
}

/// <summary>What the fake kept about an instance beyond what DescribeInstances returns.</summary>
public sealed record FakeInstanceRecord(string UserData, string HttpTokens, bool RootEncrypted, string RootVolumeType, string ImageId, string ConsoleOutput);
