using System.Text.Json.Serialization;
using Egress.Aws.Model;
using Egress.Core;

namespace Egress.Aws.Planning;

/// <summary>A plan as data (docs/json.md): the totals and one change per resource with its values before and after and the
/// operations apply makes. <c>egress plan -o json</c> writes it with <see cref="SchemaVersion"/>; apply's and destroy's
/// documents hold it without.</summary>
public sealed record PlanDocument
{
    public const int CurrentSchemaVersion = 1;

    [JsonPropertyOrder(-1)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? SchemaVersion { get; init; }

    public required string Stack { get; init; }

    public required int ToAdd { get; init; }

    public required int ToChange { get; init; }

    public required int ToDestroy { get; init; }

    public required IReadOnlyList<PlanChange> Changes { get; init; }
}

/// <summary>One resource's change: <c>create</c>, <c>update</c>, <c>replace</c> or <c>delete</c>, its address
/// (REGION:KIND/NAME) and id, why, its values (<see cref="ResourceValues"/>: strings, booleans, numbers, lists of strings or
/// of security group rules) and the operations (each an AWS call or a wait, written as its own type).</summary>
public sealed record PlanChange(
    string Action,
    string Address,
    string Region,
    string Kind,
    string Name,
    string Reason,
    string? Id,
    IReadOnlyDictionary<string, object?>? Before,
    IReadOnlyDictionary<string, object?>? After,
    IReadOnlyList<AwsOperation> Teardown,
    IReadOnlyList<AwsOperation> Operations);

/// <summary><c>egress apply -o json</c>: the plan it applied and the plan left afterwards (empty when converged).</summary>
public sealed record ApplyDocument(PlanDocument Applied, PlanDocument Remaining)
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = 1;
}

/// <summary><c>egress destroy -o json</c>: what it deleted and what is still tagged for the stack ("REGION: KIND/NAME ID"),
/// empty when nothing remains.</summary>
public sealed record DestroyDocument(PlanDocument Destroyed, IReadOnlyList<string> Remaining)
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = 1;
}

/// <summary>The JSON of the AWS side: plans, apply and destroy documents, the stack lock's holder. Source-generated (no
/// reflection): the values a <see cref="PlanChange"/> may hold are listed here, and a value of another type throws
/// when written (PlanDocumentTests writes plans of every resource kind and action).</summary>
[JsonSerializable(typeof(PlanDocument))]
[JsonSerializable(typeof(ApplyDocument))]
[JsonSerializable(typeof(DestroyDocument))]
[JsonSerializable(typeof(Execution.LockHolder))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(List<SecurityGroupRule>))]
public sealed partial class AwsJson : JsonSerializerContext
{
    /// <summary>The context over egress's JSON style (<see cref="EgressJson.NewOptions"/>).</summary>
    public static AwsJson Egress { get; } = new(EgressJson.NewOptions());
}
