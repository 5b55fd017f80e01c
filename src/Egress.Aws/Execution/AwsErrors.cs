using Egress.Aws.Ports;

namespace Egress.Aws.Execution;

/// <summary>Turns an AWS error code into an <see cref="AwsProvisionException"/> that names the action, the region and the fix.</summary>
public static class AwsErrors
{
    /// <summary>The code the adapters use when the SDK found no credentials at all.</summary>
    public const string NoCredentials = "NoCredentials";

    /// <summary>The code the SSM port uses when a parameter does not exist.</summary>
    public const string ParameterNotFound = "ParameterNotFound";

    /// <summary>The code the SDK adapter uses when it cannot connect to the endpoint at all.</summary>
    public const string EndpointUnreachable = "EndpointUnreachable";

    public static AwsProvisionException Map(AwsApiException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var (action, region, code) = (ex.Action, ex.Region, ex.ErrorCode);
        var service = action is "GetParameter" or "PutParameter" or "DeleteParameter" or "SendCommand" or "GetCommandInvocation" ? "ssm" : "ec2";
        return code switch
        {
            EndpointUnreachable =>
                new AwsProvisionException(AwsErrorKind.Unreachable, action, region, $"cannot connect to {ex.ErrorMessage}",
                    "check --endpoint-url (is the emulator running on that port?), or your network and proxy settings for AWS", ex),
            NoCredentials or "AuthFailure" or "InvalidClientTokenId" or "UnrecognizedClientException" or "ExpiredToken" or "ExpiredTokenException" or "SignatureDoesNotMatch" =>
                new AwsProvisionException(AwsErrorKind.NoCredentials, action, region,
                    code == NoCredentials ? "no AWS credentials were found" : $"AWS rejected the credentials ({code}: {ex.ErrorMessage})",
                    "configure credentials the AWS SDK finds: 'aws configure' (access keys), 'aws sso login --profile P' and pass --profile P, " +
                    "or set AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; an expired SSO session needs 'aws sso login' again", ex),
            "UnauthorizedOperation" or "AccessDenied" or "AccessDeniedException" =>
                new AwsProvisionException(AwsErrorKind.AccessDenied, action, region,
                    $"access denied: the caller may not call {service}:{action}",
                    $"allow the IAM action {service}:{action} (docs/aws.md has the whole policy) for the identity you use", ex),
            ParameterNotFound =>
                new AwsProvisionException(AwsErrorKind.AmiParameterMissing, action, region,
                    $"the public SSM parameter for the Ubuntu 22.04 AMI does not exist in {region} ({ex.ErrorMessage})",
                    "set the host's 'ami:' in the topology to an Ubuntu 22.04 AMI id of that region and architecture", ex),
            _ when code.EndsWith("LimitExceeded", StringComparison.Ordinal) && code != "RequestLimitExceeded" =>
                new AwsProvisionException(AwsErrorKind.QuotaExceeded, action, region,
                    $"an account quota is exhausted ({code}: {ex.ErrorMessage})",
                    $"delete unused resources of that kind in {region}, or ask for a higher quota in Service Quotas for {region}", ex),
            "InsufficientInstanceCapacity" or "VcpuLimitExceeded" or "MaxSpotInstanceCountExceeded" =>
                new AwsProvisionException(AwsErrorKind.QuotaExceeded, action, region,
                    $"EC2 cannot place the instance ({code}: {ex.ErrorMessage})",
                    $"try another availability zone or instance type in {region}, or raise the vCPU quota in Service Quotas", ex),
            _ when IsCidrConflict(ex) =>
                new AwsProvisionException(AwsErrorKind.CidrConflict, action, region,
                    $"the VPC CIDRs conflict with each other or with an existing peering ({code}: {ex.ErrorMessage})",
                    "give each region's 'vpc:' in the topology a CIDR that overlaps neither the peer VPC nor any VPC already peered with it", ex),
            "InvalidAMIID.NotFound" or "InvalidAMIID.Malformed" =>
                new AwsProvisionException(AwsErrorKind.BadInput, action, region, $"the AMI does not exist in {region} ({ex.ErrorMessage})",
                    "set the host's 'ami:' to an AMI id of that region, or remove it to use Ubuntu 22.04", ex),
            "InvalidParameterValue" or "InvalidParameterCombination" or "InvalidSubnet.Range" or "InvalidVpc.Range" or "Unsupported" =>
                new AwsProvisionException(AwsErrorKind.BadInput, action, region, $"AWS refused the request ({code}: {ex.ErrorMessage})",
                    "check the topology values named in the message (instance type, zone, CIDR)", ex),
            _ => new AwsProvisionException(AwsErrorKind.Other, action, region, $"{code}: {ex.ErrorMessage}",
                RetryPolicy.IsTransient(ex) ? "AWS kept failing after retries; run the same command again (it resumes)" : "run the same command again; if it repeats, check the resource in the AWS console", ex),
        };
    }

    private static bool IsCidrConflict(AwsApiException ex) =>
        ex.ErrorMessage.Contains("overlap", StringComparison.OrdinalIgnoreCase) ||
        ex.ErrorCode is "InvalidVpcPeeringConnection.OverlappingCidr" or "InvalidSubnet.Conflict" or "RouteAlreadyExists";
}
