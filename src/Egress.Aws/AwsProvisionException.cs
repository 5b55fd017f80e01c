namespace Egress.Aws;

public enum AwsErrorKind
{
    NoCredentials,
    AccessDenied,
    QuotaExceeded,
    AmiParameterMissing,
    CidrConflict,

    /// <summary>The topology or the options ask for something AWS cannot do: the user must change the input.</summary>
    BadInput,

    /// <summary>Another run holds the stack's lock.</summary>
    Locked,

    /// <summary>The endpoint cannot be reached at all (connection refused, no such host).</summary>
    Unreachable,

    /// <summary>A waiter gave up: the resource did not reach the state in time.</summary>
    Timeout,
    Other,
}

/// <summary>Every failure of the provisioner: which AWS action, in which region, what went wrong and how to fix it.</summary>
public sealed class AwsProvisionException : Exception
{
    public AwsProvisionException(AwsErrorKind kind, string action, string region, string problem, string fix, Exception? inner = null)
        : base($"{action} in {region} failed: {problem}. Fix: {fix}", inner)
    {
        Kind = kind;
        Action = action;
        Region = region;
        Problem = problem;
        Fix = fix;
    }

    public AwsErrorKind Kind { get; }

    /// <summary>The AWS API action, e.g. CreateVpc.</summary>
    public string Action { get; }

    public string Region { get; }

    public string Problem { get; }

    public string Fix { get; }

    /// <summary>The input is at fault (exit 2), not the cloud (exit 1).</summary>
    public bool IsBadInput => Kind is AwsErrorKind.BadInput or AwsErrorKind.CidrConflict or AwsErrorKind.AmiParameterMissing;
}
