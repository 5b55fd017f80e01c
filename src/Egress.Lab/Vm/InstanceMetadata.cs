using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Egress.Lab.Vm;

/// <summary>What one instance's metadata service answers: the meta-data tree (paths to values; a directory lists its
/// children, subdirectories with a trailing slash), the user data's exact bytes, and the identity document.</summary>
public sealed class InstanceMetadata
{
    private readonly SortedDictionary<string, string> _values = new(StringComparer.Ordinal);

    public InstanceMetadata(VmInstance instance, string publicKey, byte[] userData, bool publicIpAssociated = true)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(publicKey);
        Instance = instance;
        UserData = userData ?? throw new ArgumentNullException(nameof(userData));
        var mac = instance.Mac;
        void Set(string path, string value) => _values[path] = value;
        Set("ami-id", "ami-0egresslab00000000");
        Set("ami-launch-index", "0");
        Set("hostname", instance.LocalHostname);
        Set("local-hostname", instance.LocalHostname);
        Set("instance-id", instance.InstanceId);
        Set("instance-type", instance.InstanceType);
        Set("local-ipv4", instance.PrivateIp.ToString());
        Set("mac", mac);
        Set("placement/availability-zone", instance.AvailabilityZone);
        Set("placement/region", instance.Region);
        Set("public-keys/0/openssh-key", publicKey.Trim() + "\n");
        Set("services/domain", "amazonaws.com");
        Set("services/partition", "aws");
        var nic = $"network/interfaces/macs/{mac}/";
        Set(nic + "device-number", "0");
        Set(nic + "interface-id", "eni-0" + instance.InstanceId[3..]);
        Set(nic + "local-hostname", instance.LocalHostname);
        Set(nic + "local-ipv4s", instance.PrivateIp.ToString());
        Set(nic + "mac", mac);
        Set(nic + "subnet-ipv4-cidr-block", instance.Subnet.ToString());
        Set(nic + "vpc-id", instance.VpcId);
        if (instance.PublicIp is { } ip && publicIpAssociated)
        {
            Set("public-ipv4", ip.ToString());
            Set(nic + "public-ipv4s", ip.ToString());
        }
    }

    public VmInstance Instance { get; }

    public byte[] UserData { get; }

    /// <summary>The answer for a path under meta-data/ ("" is the root listing); null when there is none (404).</summary>
    public string? MetaData(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length > 0 && !path.EndsWith('/') && _values.TryGetValue(path, out var value))
        {
            return value;
        }

        // public-keys/ lists "0=name" as EC2 does.
        var prefix = path.Length == 0 || path.EndsWith('/') ? path : path + "/";
        if (prefix == "public-keys/")
        {
            return "0=egress-lab";
        }

        var children = _values.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..])
            .Select(rest => rest.Contains('/', StringComparison.Ordinal) ? rest[..(rest.IndexOf('/', StringComparison.Ordinal) + 1)] : rest)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return children.Count == 0 ? null : string.Join('\n', children);
    }

    /// <summary>dynamic/instance-identity/document.</summary>
    public string IdentityDocument() => JsonSerializer.Serialize(
        new InstanceIdentityDocument("000000000000", "x86_64", Instance.AvailabilityZone, "ami-0egresslab00000000", Instance.InstanceId,
            Instance.InstanceType, Instance.PrivateIp.ToString(), Instance.Region, "2017-09-30"),
        LabJson.Web.InstanceIdentityDocument);
}

/// <summary>dynamic/instance-identity/document's fields, as EC2 names them.</summary>
public sealed record InstanceIdentityDocument(string AccountId, string Architecture, string AvailabilityZone, string ImageId, string InstanceId,
    string InstanceType, string PrivateIp, string Region, string Version);

/// <summary>The lab's IMDSv2 at 169.254.169.254:80 inside a VPC router's namespace, for every VM of that VPC (told
/// apart by source address, as the EC2 hypervisor tells them apart by interface). A session token from
/// <c>PUT /latest/api/token</c> is required on every request: IMDSv1 requests get 401, as on an instance launched with
/// <c>HttpTokens=required</c> (what `egress apply` launches).</summary>
public static class InstanceMetadataService
{
    public const string TokenHeader = "X-aws-ec2-metadata-token";

    public const string TtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";

    public static async Task RunAsync(IPAddress listen, IReadOnlyList<InstanceMetadata> instances, string logFile, Action? onStarted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(listen, 80);
        });
        await using var app = builder.Build();
        Map(app, instances, TimeProvider.System, line => File.AppendAllText(logFile, line + "\n"));
        await app.StartAsync(cancellationToken);
        onStarted?.Invoke();
        await app.WaitForShutdownAsync(cancellationToken);
    }

    internal static void Map(WebApplication app, IReadOnlyList<InstanceMetadata> instances, TimeProvider time, Action<string> log)
    {
        var tokens = new ConcurrentDictionary<string, (string Ip, DateTimeOffset Expires)>(StringComparer.Ordinal);
        var byIp = instances.ToDictionary(i => i.Instance.PrivateIp.ToString(), StringComparer.Ordinal);
        app.Run(async context =>
        {
            var request = context.Request;
            var client = context.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4().ToString() : context.Connection.RemoteIpAddress?.ToString() ?? string.Empty;
            var path = request.Path.Value ?? "/";
            var (status, body) = Answer(request.Method, path, request.Headers[TtlHeader].ToString(), request.Headers[TokenHeader].ToString(), client, byIp, tokens, time);
            log($"{time.GetUtcNow():O} {client} {request.Method} {path} {status}");
            context.Response.StatusCode = status;
            if (body is not null)
            {
                context.Response.ContentType = "text/plain";
                await context.Response.Body.WriteAsync(body, context.RequestAborted);
            }
        });
    }

    private static readonly string[] Versions = ["latest", "2009-04-04", "2016-09-02", "2018-09-24", "2021-03-23"];

    /// <summary>Status and body for one request (pure apart from the token table).</summary>
    internal static (int Status, byte[]? Body) Answer(string method, string path, string ttl, string token, string client,
        IReadOnlyDictionary<string, InstanceMetadata> byIp, ConcurrentDictionary<string, (string Ip, DateTimeOffset Expires)> tokens, TimeProvider time)
    {
        static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);
        if (!byIp.TryGetValue(client, out var instance))
        {
            return (403, Text("egress lab IMDS: no instance has this source address\n"));
        }

        if (path == "/latest/api/token")
        {
            if (method != "PUT")
            {
                return (405, null);
            }

            if (!int.TryParse(ttl, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds is < 1 or > 21600)
            {
                return (400, null);
            }

            var issued = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            tokens[issued] = (client, time.GetUtcNow().AddSeconds(seconds));
            return (200, Text(issued));
        }

        // IMDSv2 only: every other request needs a live token issued to this instance.
        if (token.Length == 0 || !tokens.TryGetValue(token, out var held) || held.Ip != client || held.Expires < time.GetUtcNow())
        {
            return (401, null);
        }

        if (method != "GET")
        {
            return (405, null);
        }

        if (path == "/")
        {
            return (200, Text(string.Join('\n', Versions)));
        }

        var parts = path.TrimStart('/');
        var slash = parts.IndexOf('/', StringComparison.Ordinal);
        var version = slash < 0 ? parts : parts[..slash];
        var rest = slash < 0 ? string.Empty : parts[(slash + 1)..];
        if (!Versions.Contains(version))
        {
            return (404, null);
        }

        if (rest.Length == 0)
        {
            return (200, Text("dynamic\nmeta-data\nuser-data"));
        }

        if (rest == "user-data")
        {
            return (200, instance.UserData);
        }

        if (rest is "dynamic/instance-identity/document")
        {
            return (200, Text(instance.IdentityDocument()));
        }

        if (rest is "dynamic" or "dynamic/")
        {
            return (200, Text("instance-identity/"));
        }

        if (rest is "dynamic/instance-identity" or "dynamic/instance-identity/")
        {
            return (200, Text("document"));
        }

        if (rest == "meta-data" || rest.StartsWith("meta-data/", StringComparison.Ordinal))
        {
            var key = rest.Length > "meta-data/".Length ? rest["meta-data/".Length..] : string.Empty;
            return instance.MetaData(key) is { } value ? (200, Text(value)) : (404, null);
        }

        return (404, null);
    }
}
