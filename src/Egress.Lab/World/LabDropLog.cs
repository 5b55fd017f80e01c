using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Egress.Lab.World;

/// <summary>One kind of packet a drop point dropped, and how many: "TCP RST 192.168.250.2:49712 → 192.0.2.10:443".</summary>
public sealed record DroppedFlow(string Point, string Packet, long Packets)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Packet} ×{Packets}");
}

/// <summary>What the lab's drop points drop, by packet: before each counted drop, nftables adds the packet's tuple to a
/// dynamic set with a counter per element (source, destination, protocol, ports, TCP flags class: RST, SYN, FIN, else ACK), so a failed counter
/// check names the packets. (nft's `log` statement writes nothing from a namespace other than the first unless the
/// machine-wide nf_log_all_netns is set, which the lab never touches; sets work in any namespace.)</summary>
public static class LabDropLog
{
    /// <summary>At most this many distinct tuples per set; more packets are still counted by the drop counter.</summary>
    public const int SetSize = 256;

    private static readonly (string Suffix, string Type, string Condition, string Key, string Label)[] Kinds =
    [
        ("rst", "ipv4_addr . inet_service . ipv4_addr . inet_service", "tcp flags & rst == rst", "ip saddr . tcp sport . ip daddr . tcp dport", "TCP RST"),
        ("syn", "ipv4_addr . inet_service . ipv4_addr . inet_service", "tcp flags & (syn | ack | rst) == syn", "ip saddr . tcp sport . ip daddr . tcp dport", "TCP SYN"),
        ("fin", "ipv4_addr . inet_service . ipv4_addr . inet_service", "tcp flags & (fin | rst) == fin", "ip saddr . tcp sport . ip daddr . tcp dport", "TCP FIN"),
        ("tcp", "ipv4_addr . inet_service . ipv4_addr . inet_service", "tcp flags & (fin | rst) == 0 tcp flags & (syn | ack) != syn", "ip saddr . tcp sport . ip daddr . tcp dport", "TCP ACK"),
        ("udp", "ipv4_addr . inet_service . ipv4_addr . inet_service", "meta l4proto udp", "ip saddr . udp sport . ip daddr . udp dport", "UDP"),
        ("icmp", "ipv4_addr . ipv4_addr . icmp_type", "meta l4proto icmp", "ip saddr . ip daddr . icmp type", "ICMP"),
        ("ip", "ipv4_addr . ipv4_addr . inet_proto", "meta l4proto != { tcp, udp, icmp }", "ip saddr . ip daddr . meta l4proto", "IP"),
    ];

    private static string SetName(string point, string suffix) => $"{point}_log_{suffix}";

    /// <summary>The set declarations of drop point <paramref name="point"/> (its counter's name), for the table body.</summary>
    public static string Sets(string point)
    {
        var text = new StringBuilder();
        foreach (var kind in Kinds)
        {
            text.Append(CultureInfo.InvariantCulture, $"  set {SetName(point, kind.Suffix)} {{\n    type {kind.Type}\n    flags dynamic\n    counter\n    size {SetSize}\n  }}\n");
        }

        return text.ToString();
    }

    /// <summary>Rules that record the packets <paramref name="match"/> selects; put them right before the counted drop.</summary>
    public static IEnumerable<string> Rules(string match, string point) =>
        Kinds.Select(k => $"{match} {k.Condition} update @{SetName(point, k.Suffix)} {{ {k.Key} }}");

    /// <summary>Every element of every drop-log set in <c>nft -j list table</c> output, named by its drop point.</summary>
    public static IReadOnlyList<DroppedFlow> Parse(string json)
    {
        var flows = new List<DroppedFlow>();
        using var document = JsonDocument.Parse(json);
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!item.TryGetProperty("set", out var set) || !set.TryGetProperty("elem", out var elements))
            {
                continue;
            }

            var name = set.GetProperty("name").GetString() ?? string.Empty;
            var kind = Kinds.FirstOrDefault(k => name.EndsWith("_log_" + k.Suffix, StringComparison.Ordinal));
            if (kind.Suffix is null)
            {
                continue;
            }

            var point = name[..^("_log_" + kind.Suffix).Length];
            foreach (var element in elements.EnumerateArray())
            {
                if (element.TryGetProperty("elem", out var elem)
                    && elem.TryGetProperty("val", out var value) && value.TryGetProperty("concat", out var concat)
                    && elem.TryGetProperty("counter", out var counter))
                {
                    var parts = concat.EnumerateArray().Select(Text).ToList();
                    flows.Add(new DroppedFlow(point, Describe(kind.Label, parts), counter.GetProperty("packets").GetInt64()));
                }
            }
        }

        return flows;
    }

    private static string Describe(string label, IReadOnlyList<string> parts) => parts.Count switch
    {
        4 => $"{label} {parts[0]}:{parts[1]} → {parts[2]}:{parts[3]}",
        3 when label == "ICMP" => $"ICMP {parts[2]} {parts[0]} → {parts[1]}",
        3 => $"IP protocol {parts[2]} {parts[0]} → {parts[1]}",
        _ => $"{label} {string.Join(' ', parts)}",
    };

    private static string Text(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString() ?? string.Empty,
        JsonValueKind.Number => element.GetRawText(),
        _ => element.GetRawText(),
    };

    /// <summary>What was dropped at <paramref name="point"/> between two readings, most packets first.</summary>
    public static IReadOnlyList<DroppedFlow> Since(IReadOnlyList<DroppedFlow> before, IReadOnlyList<DroppedFlow> after, string point)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var earlier = before.Where(f => f.Point == point).ToDictionary(f => f.Packet, f => f.Packets);
        return [.. after.Where(f => f.Point == point)
            .Select(f => f with { Packets = f.Packets - earlier.GetValueOrDefault(f.Packet) })
            .Where(f => f.Packets > 0)
            .OrderByDescending(f => f.Packets).ThenBy(f => f.Packet, StringComparer.Ordinal)];
    }
}
