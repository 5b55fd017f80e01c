using System.Text.Json.Serialization;
using Egress.Aws.Planning;
using Egress.Core;
using Egress.Lab;

namespace Egress.Cli;

// The documents the verbs print with --output json (docs/json.md lists each with its fields). Each is a typed record
// with a schemaVersion, written through the source-generated CliJson context: no reflection, so the shipped build (no
// dynamic code) writes exactly what the tests read. A new field may be added within a version; renaming or removing one
// bumps the document's version.

/// <summary><c>egress validate -o json</c>.</summary>
internal sealed record ValidateDocument(string File, bool Valid, IReadOnlyList<ValidateDiagnostic> Diagnostics)
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = 1;
}

internal sealed record ValidateDiagnostic(string Severity, int Line, int Column, string Path, string Message, string? Fix);

/// <summary><c>egress cost -o json</c>: money as exact decimals (6 places), per scenario and its line items.</summary>
internal sealed record CostDocument
{
    public int SchemaVersion { get; init; } = 1;

    public required string File { get; init; }

    public required string Stack { get; init; }

    public required string Prices { get; init; }

    public required string Currency { get; init; }

    public required decimal Hours { get; init; }

    public required decimal GbOutPerClient { get; init; }

    public required decimal GbInPerClient { get; init; }

    public required decimal HoursPerWeek { get; init; }

    public required decimal HoursPerMonth { get; init; }

    public required IReadOnlyList<CostScenarioDocument> Scenarios { get; init; }

    public required CostSavingsDocument SavingsPercent { get; init; }
}

internal sealed record CostScenarioDocument(string Id, string Title, IReadOnlyList<CostLineDocument> Lines, decimal Total, decimal PerWeek, decimal PerMonth);

internal sealed record CostLineDocument(string Item, string Region, string Description, decimal Quantity, string Unit, decimal UnitPrice, decimal Cost, bool Estimate);

internal sealed record CostSavingsDocument(decimal VsTransitGatewayNat, decimal VsLocalNatGateway);

/// <summary><c>egress doctor -o json</c>.</summary>
internal sealed record DoctorDocument(string Environment, bool Healthy, string? StoppedAt, double ElapsedMs,
    IReadOnlyList<DoctorCheckDocument> Findings, IReadOnlyList<DoctorCheckDocument> Checks)
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = 1;
}

internal sealed record DoctorCheckDocument(string Id, string Link, string? Host, string Status, string Expected, string Seen, string? Fix, string? FixedBy);

/// <summary><c>egress status -o json</c>.</summary>
internal sealed record StatusDocument(string Stack, IReadOnlyList<StatusRow> Resources, decimal CostUsdPerHour, IReadOnlyList<RunningCostLine> CostLines,
    IReadOnlyList<Commands.StatusCommand.HostCheck> Checks)
{
    [JsonPropertyOrder(-1)]
    public int SchemaVersion { get; init; } = 1;
}

[JsonSerializable(typeof(ValidateDocument))]
[JsonSerializable(typeof(CostDocument))]
[JsonSerializable(typeof(DoctorDocument))]
[JsonSerializable(typeof(StatusDocument))]
internal sealed partial class CliJson : JsonSerializerContext
{
    public static CliJson Egress { get; } = new(EgressJson.NewOptions());
}
