using Amazon;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.SimpleSystemsManagement;
using Egress.Aws.Ports;

namespace Egress.Aws.Sdk;

/// <summary>How to reach AWS: a named profile (else the SDK's default chain: environment, profiles including SSO,
/// instance role) and an optional endpoint (an emulator) for every client.</summary>
public sealed record AwsConnection
{
    public string? Profile { get; init; }

    public Uri? EndpointUrl { get; init; }

    /// <summary>Explicit credentials (tests against an emulator); null = <see cref="Profile"/> or the default chain.</summary>
    public AWSCredentials? Credentials { get; init; }
}

/// <summary>The real ports: one AmazonEC2Client and one SSM client per region, made on first use.</summary>
public sealed class SdkAwsPorts : IAwsPorts, IDisposable
{
    private readonly AwsConnection _connection;
    private readonly Lazy<AWSCredentials> _credentials;
    private readonly Dictionary<string, SdkEc2Port> _ec2 = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SdkSsmPort> _ssm = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public SdkAwsPorts(AwsConnection connection)
    {
        _connection = connection;
        _credentials = new Lazy<AWSCredentials>(ResolveCredentials);
    }

    public IEc2Port Ec2(string region)
    {
        lock (_gate)
        {
            if (!_ec2.TryGetValue(region, out var port))
            {
                var config = Configure(new AmazonEC2Config(), region);
                var client = new AmazonEC2Client(_credentials.Value, config);
                _ec2[region] = port = new SdkEc2Port(client, region);
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
                var config = Configure(new AmazonSimpleSystemsManagementConfig(), region);
                var client = new AmazonSimpleSystemsManagementClient(_credentials.Value, config);
                _ssm[region] = port = new SdkSsmPort(client, region);
            }

            return port;
        }
    }

    /// <summary>With a custom endpoint, ServiceURL alone would sign every call for us-east-1: AuthenticationRegion fixes it.</summary>
    private T Configure<T>(T config, string region) where T : ClientConfig
    {
        if (_connection.EndpointUrl is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
            config.AuthenticationRegion = region;
            config.MaxErrorRetry = 0; // an emulator does not throttle; egress's own retry policy handles the rest
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        return config;
    }

    /// <summary>Once per run, before any client exists, so a missing credential is one clear error and not a crash.</summary>
    private AWSCredentials ResolveCredentials()
    {
        if (_connection.Credentials is { } explicitCredentials)
        {
            return explicitCredentials;
        }

        if (_connection.Profile is not { } profile)
        {
            try
            {
                return Amazon.Runtime.Credentials.DefaultAWSCredentialsIdentityResolver.GetCredentials();
            }
            catch (AmazonClientException ex)
            {
                throw new AwsProvisionException(AwsErrorKind.NoCredentials, "ResolveCredentials", "(all regions)",
                    "the AWS SDK found no credentials (environment, default profile, SSO, instance role)",
                    "run 'aws configure' or 'aws sso login --profile P' and pass --profile P, or set AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", ex);
            }
        }

        if (new CredentialProfileStoreChain().TryGetAWSCredentials(profile, out var credentials))
        {
            return credentials;
        }

        throw new AwsProvisionException(AwsErrorKind.NoCredentials, "ResolveProfile", "(all regions)",
            $"the AWS profile '{profile}' is not in ~/.aws/config or ~/.aws/credentials",
            $"create it with 'aws configure --profile {profile}' (or 'aws configure sso --profile {profile}'), or pass another --profile");
    }

    /// <summary>Connection refused or an unknown host, wherever the SDK wraps it.</summary>
    private static bool IsConnectionFailure(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError })
            {
                return true;
            }

            if (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused or System.Net.Sockets.SocketError.HostNotFound })
            {
                return true;
            }
        }

        return false;
    }

    private static Exception Innermost(Exception ex) => ex.InnerException is null ? ex : Innermost(ex.InnerException);

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var port in _ec2.Values)
            {
                port.Dispose();
            }

            foreach (var port in _ssm.Values)
            {
                port.Dispose();
            }
        }
    }

    /// <summary>Runs one SDK call and turns SDK failures into <see cref="AwsApiException"/> with the action and region.</summary>
    internal static async Task<T> Call<T>(string action, string region, Func<Task<T>> call, ClientConfig? config = null)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            // Not a passing hiccup: nothing listens there. Fail at once, naming where egress tried to connect.
            var where = config?.ServiceURL ?? $"the AWS endpoint of {region}";
            throw new AwsApiException(Execution.AwsErrors.EndpointUnreachable, $"{where} ({Innermost(ex).Message})", action, region, ex);
        }
        catch (AmazonServiceException ex) when (ex.ErrorCode is not null)
        {
            throw new AwsApiException(ex.ErrorCode, ex.Message, action, region, ex);
        }
        catch (AmazonServiceException ex)
        {
            throw new AwsApiException(((int)ex.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, action, region, ex);
        }
        catch (AmazonClientException ex) when (ex.Message.Contains("credential", StringComparison.OrdinalIgnoreCase))
        {
            throw new AwsApiException(Execution.AwsErrors.NoCredentials, ex.Message, action, region, ex);
        }
        catch (AmazonClientException ex)
        {
            throw new AwsApiException("ClientError", ex.Message, action, region, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new AwsApiException("ServiceUnavailable", ex.Message, action, region, ex);
        }
    }
}
