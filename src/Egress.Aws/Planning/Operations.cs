using System.Text.Json;
using System.Text.Json.Serialization;
using Egress.Aws.Model;

namespace Egress.Aws.Planning;

/// <summary>A resource an operation names: its id when the plan knows it (the resource stays), otherwise the address of a
/// resource this apply creates first, whose id the executor looks up when it gets there ("known after apply").</summary>
[JsonConverter(typeof(ResourceRefJsonConverter))]
public sealed record ResourceRef(ResourceAddress? Address, string? Id)
{
    /// <summary>A literal id (e.g. of a resource being deleted, which has no address the stack still wants).</summary>
    public static ResourceRef ToId(string id) => new(null, id);

    public static ResourceRef To(ResourceAddress address, string? knownId) => new(address, knownId);

    /// <summary>The id, or "REGION:KIND/NAME (known after apply)": how the plan's data shows it.</summary>
    public string Value => Id ?? $"{Address} (known after apply)";

    /// <summary>The id, or "KIND/NAME (known after apply)": how the plan's text shows it.</summary>
    public override string ToString() => Id ?? $"{Address!.Component} (known after apply)";
}

internal sealed class ResourceRefJsonConverter : JsonConverter<ResourceRef>
{
    public override ResourceRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("A plan is written, never read.");

    public override void Write(Utf8JsonWriter writer, ResourceRef value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}

/// <summary>One call the executor makes (or one wait it does), in the region whose port runs it. Operations are data: the
/// planner decides them, the formatter shows them, the executor runs them in order, resolving ids, waiting and retrying.
/// In the plan's JSON each is written as its own type (no discriminator: its <c>action</c> says what it is); a new
/// operation needs its line here, or writing a plan that holds it throws (PlanDocumentTests covers every kind).</summary>
[JsonDerivedType(typeof(ImportKeyPair))]
[JsonDerivedType(typeof(DeleteKeyPair))]
[JsonDerivedType(typeof(CreateVpc))]
[JsonDerivedType(typeof(SetVpcDns))]
[JsonDerivedType(typeof(DeleteVpc))]
[JsonDerivedType(typeof(CreateSubnet))]
[JsonDerivedType(typeof(DeleteSubnet))]
[JsonDerivedType(typeof(CreateInternetGateway))]
[JsonDerivedType(typeof(AttachInternetGateway))]
[JsonDerivedType(typeof(DetachInternetGateway))]
[JsonDerivedType(typeof(DeleteInternetGateway))]
[JsonDerivedType(typeof(CreateRouteTable))]
[JsonDerivedType(typeof(AssociateRouteTable))]
[JsonDerivedType(typeof(DisassociateRouteTable))]
[JsonDerivedType(typeof(DeleteRouteTable))]
[JsonDerivedType(typeof(PutRoute))]
[JsonDerivedType(typeof(DeleteRoute))]
[JsonDerivedType(typeof(CreateSecurityGroup))]
[JsonDerivedType(typeof(ChangeSecurityGroupRules))]
[JsonDerivedType(typeof(DeleteSecurityGroup))]
[JsonDerivedType(typeof(CreatePeering))]
[JsonDerivedType(typeof(AcceptPeering))]
[JsonDerivedType(typeof(WaitPeeringActive))]
[JsonDerivedType(typeof(AllowPeeringDns))]
[JsonDerivedType(typeof(DeletePeering))]
[JsonDerivedType(typeof(RunInstance))]
[JsonDerivedType(typeof(WaitInstanceRunning))]
[JsonDerivedType(typeof(SetSourceDestCheck))]
[JsonDerivedType(typeof(TerminateInstance))]
[JsonDerivedType(typeof(AllocateAddress))]
[JsonDerivedType(typeof(AssociateAddress))]
[JsonDerivedType(typeof(DisassociateAddress))]
[JsonDerivedType(typeof(ReleaseAddress))]
public abstract record AwsOperation(string Region)
{
    /// <summary>The AWS API action this operation calls (for a wait: the describe call it polls).</summary>
    public abstract string Action { get; }

    /// <summary>True for a call that changes AWS; false for a wait (it only reads).</summary>
    public virtual bool Mutates => true;

    /// <summary>The address whose id this operation produces (the create calls), or null.</summary>
    public virtual ResourceAddress? Creates => null;
}

public sealed record ImportKeyPair(string Region, ResourceAddress Address, string KeyName, string PublicKey, IReadOnlyDictionary<string, string> Tags)
    : AwsOperation(Region)
{
    public override string Action => "ImportKeyPair";

    public override ResourceAddress? Creates => Address;
}

public sealed record DeleteKeyPair(string Region, string KeyPairId) : AwsOperation(Region)
{
    public override string Action => "DeleteKeyPair";
}

public sealed record CreateVpc(string Region, ResourceAddress Address, string Cidr, IReadOnlyDictionary<string, string> Tags) : AwsOperation(Region)
{
    public override string Action => "CreateVpc";

    public override ResourceAddress? Creates => Address;
}

/// <summary>ModifyVpcAttribute for one of the two DNS attributes (AWS takes one per call).</summary>
public sealed record SetVpcDns(string Region, ResourceRef Vpc, bool Hostnames, bool Enabled) : AwsOperation(Region)
{
    public override string Action => "ModifyVpcAttribute";
}

public sealed record DeleteVpc(string Region, string VpcId) : AwsOperation(Region)
{
    public override string Action => "DeleteVpc";
}

public sealed record CreateSubnet(string Region, ResourceAddress Address, ResourceRef Vpc, string Cidr, string AvailabilityZone,
    IReadOnlyDictionary<string, string> Tags) : AwsOperation(Region)
{
    public override string Action => "CreateSubnet";

    public override ResourceAddress? Creates => Address;
}

public sealed record DeleteSubnet(string Region, string SubnetId) : AwsOperation(Region)
{
    public override string Action => "DeleteSubnet";
}

public sealed record CreateInternetGateway(string Region, ResourceAddress Address, IReadOnlyDictionary<string, string> Tags) : AwsOperation(Region)
{
    public override string Action => "CreateInternetGateway";

    public override ResourceAddress? Creates => Address;
}

public sealed record AttachInternetGateway(string Region, ResourceRef Gateway, ResourceRef Vpc) : AwsOperation(Region)
{
    public override string Action => "AttachInternetGateway";
}

public sealed record DetachInternetGateway(string Region, ResourceRef Gateway, string VpcId) : AwsOperation(Region)
{
    public override string Action => "DetachInternetGateway";
}

public sealed record DeleteInternetGateway(string Region, string GatewayId) : AwsOperation(Region)
{
    public override string Action => "DeleteInternetGateway";
}

public sealed record CreateRouteTable(string Region, ResourceAddress Address, ResourceRef Vpc, IReadOnlyDictionary<string, string> Tags) : AwsOperation(Region)
{
    public override string Action => "CreateRouteTable";

    public override ResourceAddress? Creates => Address;
}

public sealed record AssociateRouteTable(string Region, ResourceRef RouteTable, ResourceRef Subnet) : AwsOperation(Region)
{
    public override string Action => "AssociateRouteTable";
}

/// <param name="SubnetId">The subnet the association is for (shown in the plan; the call needs only the association).</param>
public sealed record DisassociateRouteTable(string Region, string AssociationId, string? SubnetId) : AwsOperation(Region)
{
    public override string Action => "DisassociateRouteTable";
}

public sealed record DeleteRouteTable(string Region, string RouteTableId) : AwsOperation(Region)
{
    public override string Action => "DeleteRouteTable";
}

/// <summary>CreateRoute (or, with <see cref="Replace"/>, ReplaceRoute) to an internet gateway or a peering. A route to a peering
/// waits until the peering is active; a CreateRoute that finds the route already there (a retried call whose first attempt went
/// through) replaces it instead.</summary>
public sealed record PutRoute(string Region, ResourceAddress Address, ResourceRef RouteTable, string Destination, ResourceRef Target, bool Replace)
    : AwsOperation(Region)
{
    public override string Action => Replace ? "ReplaceRoute" : "CreateRoute";

    public override ResourceAddress? Creates => Address;

    public bool ToPeering => Target.Address?.Kind == ResourceKind.Peering || (Target.Id?.StartsWith("pcx-", StringComparison.Ordinal) ?? false);
}

public sealed record DeleteRoute(string Region, string RouteTableId, string Destination) : AwsOperation(Region)
{
    public override string Action => "DeleteRoute";
}

public sealed record CreateSecurityGroup(string Region, ResourceAddress Address, ResourceRef Vpc, string GroupName, string Description,
    IReadOnlyDictionary<string, string> Tags) : AwsOperation(Region)
{
    public override string Action => "CreateSecurityGroup";

    public override ResourceAddress? Creates => Address;
}

/// <summary>Authorize (or revoke) ingress (or egress) rules of a security group.</summary>
public sealed record ChangeSecurityGroupRules(string Region, ResourceRef Group, bool Ingress, bool Authorize, IReadOnlyList<SecurityGroupRule> Rules)
    : AwsOperation(Region)
{
    public override string Action => $"{(Authorize ? "Authorize" : "Revoke")}SecurityGroup{(Ingress ? "Ingress" : "Egress")}";
}

public sealed record DeleteSecurityGroup(string Region, string GroupId) : AwsOperation(Region)
{
    public override string Action => "DeleteSecurityGroup";
}

/// <summary>Requests the peering and waits until it has left initiating-request.</summary>
public sealed record CreatePeering(string Region, ResourceAddress Address, ResourceRef RequesterVpc, ResourceRef AccepterVpc, string AccepterRegion,
    IReadOnlyDictionary<string, string> Tags) : AwsOperation(Region)
{
    public override string Action => "CreateVpcPeeringConnection";

    public override ResourceAddress? Creates => Address;
}

/// <summary>Accepts the peering; <see cref="AwsOperation.Region"/> is the accepter's.</summary>
public sealed record AcceptPeering(string Region, ResourceRef Peering) : AwsOperation(Region)
{
    public override string Action => "AcceptVpcPeeringConnection";
}

/// <summary>Waits until the peering is active (DescribeVpcPeeringConnections in <see cref="AwsOperation.Region"/>, the requester's).</summary>
public sealed record WaitPeeringActive(string Region, ResourceRef Peering) : AwsOperation(Region)
{
    public override string Action => "DescribeVpcPeeringConnections";

    public override bool Mutates => false;
}

/// <summary>Allows DNS resolution from the remote VPC for one side of an active peering, in that side's region.</summary>
public sealed record AllowPeeringDns(string Region, ResourceRef Peering, bool RequesterSide) : AwsOperation(Region)
{
    public override string Action => "ModifyVpcPeeringConnectionOptions";
}

public sealed record DeletePeering(string Region, string PeeringId) : AwsOperation(Region)
{
    public override string Action => "DeleteVpcPeeringConnection";
}

/// <summary>Launches one host and waits until it runs. <see cref="ImageId"/> null = the AMI from <see cref="AmiParameter"/>,
/// resolved before anything changes; the client token is the run's (a retry within the run launches nothing new).</summary>
public sealed record RunInstance(string Region, ResourceAddress Address) : AwsOperation(Region)
{
    public override string Action => "RunInstances";

    public override ResourceAddress? Creates => Address;

    public string? ImageId { get; init; }

    public required string AmiParameter { get; init; }

    public required string InstanceType { get; init; }

    public required ResourceRef Subnet { get; init; }

    public required string PrivateIp { get; init; }

    public required ResourceRef SecurityGroup { get; init; }

    public required bool AssociatePublicIp { get; init; }

    /// <summary>The cloud-init user data (its SHA-256 is in <see cref="Tags"/>); left out of the JSON plan.</summary>
    [JsonIgnore]
    public string UserData { get; init; } = string.Empty;

    public string? KeyName { get; init; }

    public string? InstanceProfile { get; init; }

    public required IReadOnlyDictionary<string, string> Tags { get; init; }
}

/// <summary>Waits until the instance is running (DescribeInstances).</summary>
public sealed record WaitInstanceRunning(string Region, ResourceRef Instance) : AwsOperation(Region)
{
    public override string Action => "DescribeInstances";

    public override bool Mutates => false;
}

/// <summary>ModifyInstanceAttribute SourceDestCheck (off on gateways so they forward).</summary>
public sealed record SetSourceDestCheck(string Region, ResourceRef Instance, bool Enabled) : AwsOperation(Region)
{
    public override string Action => "ModifyInstanceAttribute";
}

/// <summary>Terminates the instance and waits until it is terminated (its private IP and security group are then free).</summary>
public sealed record TerminateInstance(string Region, string InstanceId) : AwsOperation(Region)
{
    public override string Action => "TerminateInstances";
}

public sealed record AllocateAddress(string Region, ResourceAddress Address, IReadOnlyDictionary<string, string> Tags) : AwsOperation(Region)
{
    public override string Action => "AllocateAddress";

    public override ResourceAddress? Creates => Address;
}

public sealed record AssociateAddress(string Region, ResourceRef Allocation, ResourceRef Instance) : AwsOperation(Region)
{
    public override string Action => "AssociateAddress";
}

public sealed record DisassociateAddress(string Region, string AssociationId) : AwsOperation(Region)
{
    public override string Action => "DisassociateAddress";
}

public sealed record ReleaseAddress(string Region, string AllocationId) : AwsOperation(Region)
{
    public override string Action => "ReleaseAddress";
}
