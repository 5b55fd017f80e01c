using System.Text.RegularExpressions;
using Egress.Core.Topology;
using Egress.Processes;

namespace Egress.Verify.Probes;

/// <summary>Where the client's internet traffic goes now, from its routing table: `ip -4 -o route get` of a documentation
/// address (a route lookup; nothing is sent). Through a tunnel, the next hop is that gateway's tunnel address: after a
/// failover it is the standby's, so identity and path are judged against the gateway that is active, not egressVia[0].</summary>
public static partial class ActiveRoute
{
    /// <summary>Any internet address does: both default halves cover it. RFC 5737, looked up only.</summary>
    public const string LookupAddress = "192.0.2.1";

    public static CommandSpec Command() => CommandSpec.Of("ip", "-4", "-o", "route", "get", LookupAddress);

    /// <summary>The client's route to the internet: its next hop and device, or why there is none (a `prohibit` route
    /// refuses the lookup: fail-closed), or a problem when the lookup could not run (then the caller falls back).</summary>
    public sealed record Answer(string? Via, string? Device, string? Refused, string? Problem);

    public static Answer Parse(CommandResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (PathProbe.NotInstalled(result))
        {
            return new Answer(null, null, null, "ip is not installed on the client");
        }

        if (!result.Succeeded)
        {
            var error = result.StandardError.Trim();
            return error.Contains("denied", StringComparison.OrdinalIgnoreCase) || error.Contains("prohibited", StringComparison.OrdinalIgnoreCase)
                || error.Contains("unreachable", StringComparison.OrdinalIgnoreCase)
                ? new Answer(null, null, $"the client's routes refuse internet traffic ({error})", null)
                : new Answer(null, null, null, $"'ip route get' failed (exit {result.ExitCode}): {error}");
        }

        var line = result.StandardOutput.Trim();
        var device = Device().Match(line);
        if (!device.Success)
        {
            return new Answer(null, null, null, $"'ip route get' said something unexpected: {line}");
        }

        var via = Via().Match(line);
        return new Answer(via.Success ? via.Groups[1].Value : null, device.Groups[1].Value, null, null);
    }

    /// <summary>The pair whose gateway tunnel address is the next hop, or null (with why) when the route goes elsewhere.</summary>
    public static (TunnelPair? Pair, string Why) Match(Answer answer, IReadOnlyList<TunnelPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(pairs);
        if (answer.Refused is { } refused)
        {
            return (null, $"no gateway is active: {refused}");
        }

        var pair = pairs.FirstOrDefault(p => p.GatewayAddress.ToString() == answer.Via);
        return pair is not null
            ? (pair, $"active gateway {pair.Gateway.Name} (route via {answer.Via} dev {answer.Device})")
            : (null, $"no gateway is active: the route to the internet is {(answer.Via is null ? string.Empty : $"via {answer.Via} ")}dev {answer.Device}, not a tunnel to any of {string.Join(", ", pairs.Select(p => $"{p.Gateway.Name} ({p.GatewayAddress})"))}");
    }

    [GeneratedRegex(@"\svia\s+([0-9.]+)", RegexOptions.CultureInvariant)]
    private static partial Regex Via();

    [GeneratedRegex(@"\sdev\s+(\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex Device();
}
