using System.Net;
using System.Security.Cryptography.X509Certificates;
using Egress.Core.Net;
using Egress.Lab.World;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Egress.Lab.Services;

/// <summary>The lab's public internet: an API like api.binance.com (/api/v3/time), an IP echo like ipinfo.io
/// (/json: the caller's address and where the lab's table puts it), and /lab/bytes/N for downloads.
/// Runs inside the internet namespace, on the 192.0.2.x addresses of the plan, HTTPS (lab CA) and HTTP.
/// It does no DNS, at start or ever: it binds addresses, not names.</summary>
public static class LabServices
{
    /// <summary>Every response carries the source address the service saw (what "the API sees").</summary>
    public const string ClientAddressHeader = "X-Egress-Lab-Client";

    /// <summary>On an edge's answers: the region of the edge that answered.</summary>
    public const string EdgeHeader = "X-Egress-Lab-Edge";

    public const long MaxDownloadBytes = 256L * 1024 * 1024;

    public static async Task RunAsync(LabWorldPlan plan, LabStateDirectory state, Action? onStarted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(state);
        using var certificate = X509Certificate2.CreateFromPemFile(state.LeafCertificate, state.LeafKey);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            foreach (var bound in plan.Services.Select(s => s.Address).Concat(plan.Edges.Select(e => e.Address)))
            {
                var address = IPAddress.Parse(bound.ToString());
                kestrel.Listen(address, 443, listen => listen.UseHttps(new HttpsConnectionAdapterOptions { ServerCertificate = certificate }));
                kestrel.Listen(address, 80);
            }

            if (plan.Ipv6)
            {
                // The IPv6 internet (docs/lab.md "IPv6"): plain HTTP, for `curl -6` from a client.
                kestrel.Listen(IPAddress.Parse(LabIpv6.InternetAddress), 80);
            }
        });
        await using var app = builder.Build();
        Map(app, plan, TimeProvider.System);
        await app.StartAsync(cancellationToken);
        onStarted?.Invoke();
        await app.WaitForShutdownAsync(cancellationToken);
    }

    internal static void Map(WebApplication app, LabWorldPlan plan, TimeProvider time)
    {
        var echoHost = plan.Topology.Verify.IpEcho.Host;
        app.Use(async (context, next) =>
        {
            context.Response.Headers[ClientAddressHeader] = ClientOf(context);
            if (EdgeOf(plan, context) is { } edge)
            {
                context.Response.Headers[EdgeHeader] = edge.Region;
            }

            await next(context);
        });
        // RequestDelegate endpoints (no minimal-API delegate inference: that generates code at run time, and the shipped
        // build has none) writing source-generated JSON (LabJson.Web).
        app.MapGet("/lab/edge", context => EdgeOf(plan, context) is { } edge
            ? context.Response.WriteAsJsonAsync(new EdgeAnswer(edge.Region, edge.Address.ToString(), ClientOf(context)), LabJson.Web.EdgeAnswer, cancellationToken: context.RequestAborted)
            : TextAsync(context, StatusCodes.Status404NotFound, $"not an edge of {LabWorldPlan.GeoName}\n"));
        app.MapGet("/api/v3/time", context =>
            context.Response.WriteAsJsonAsync(new ServerTimeAnswer(time.GetUtcNow().ToUnixTimeMilliseconds()), LabJson.Web.ServerTimeAnswer, cancellationToken: context.RequestAborted));
        app.MapGet("/json", context => context.Response.WriteAsJsonAsync(Echo(plan, ClientOf(context)), LabJson.Web.IpEchoAnswer, cancellationToken: context.RequestAborted));
        app.MapGet("/", context =>
            string.Equals(context.Request.Host.Host, echoHost, StringComparison.OrdinalIgnoreCase)
                ? context.Response.WriteAsJsonAsync(Echo(plan, ClientOf(context)), LabJson.Web.IpEchoAnswer, cancellationToken: context.RequestAborted)
                : TextAsync(context, StatusCodes.Status200OK, "egress lab internet\n"));
        app.MapGet("/lab/bytes/{count}", context =>
        {
            if (!long.TryParse(context.Request.RouteValues["count"] as string, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count)
                || count > MaxDownloadBytes)
            {
                return TextAsync(context, StatusCodes.Status400BadRequest, $"0..{MaxDownloadBytes} bytes\n");
            }

            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = count;
            return WriteBytesAsync(context.Response.Body, count, context.RequestAborted);
        });
    }

    private static Task TextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    /// <summary>The edge whose address the request came to, or null (a service address).</summary>
    private static LabEdge? EdgeOf(LabWorldPlan plan, HttpContext context)
    {
        var local = context.Connection.LocalIpAddress;
        var text = (local is { IsIPv4MappedToIPv6: true } ? local.MapToIPv4() : local)?.ToString();
        return plan.Edges.FirstOrDefault(e => e.Address.ToString() == text);
    }

    private static string ClientOf(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        return (remote is { IsIPv4MappedToIPv6: true } ? remote.MapToIPv4() : remote)?.ToString() ?? string.Empty;
    }

    private static async Task WriteBytesAsync(Stream stream, long count, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        for (var left = count; left > 0;)
        {
            var n = (int)Math.Min(buffer.Length, left);
            await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            left -= n;
        }
    }

    /// <summary>What the IP echo answers for <paramref name="address"/>: the lab's range table (ipinfo.io's field names).</summary>
    public static IpEchoAnswer Echo(LabWorldPlan plan, string address)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var range = Ipv4Address.TryParse(address, out var ip) ? plan.PublicRanges.FirstOrDefault(r => r.Range.Contains(ip)) : null;
        return range is null
            ? new IpEchoAnswer(address, string.Empty, string.Empty, string.Empty, string.Empty)
            : new IpEchoAnswer(address, range.City, range.City, range.Country, range.Org);
    }

    /// <summary>/lab/edge on an edge of the geo name: which region's edge answered, at which address, for which caller.</summary>
    public sealed record EdgeAnswer(string Edge, string Address, string Client);

    /// <summary>api.binance.com's /api/v3/time answer.</summary>
    public sealed record ServerTimeAnswer(long ServerTime);

    /// <summary>ipinfo.io's /json fields (camelCase on the wire: ip, city, region, country, org).</summary>
    public sealed record IpEchoAnswer(string Ip, string City, string Region, string Country, string Org);
}
