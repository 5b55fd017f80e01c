using System.Globalization;
using System.Text;
using CsCheck;

namespace Egress.Cli.Tests.Properties;

/// <summary>Generates topology documents for the property tests: a seed-like topology of one to four regions in
/// which any field may be replaced by a hostile value (invalid CIDRs and prefixes, addresses out of range, wrong
/// types, hostile names, YAML syntax, aliases, deep nesting), then mutated as text (lines deleted, duplicated,
/// swapped, re-indented, truncated, bytes inserted). The document is built from a list of choices, and choice 0 is
/// always the ordinary one, so CsCheck shrinks a failure towards the seed with the fewest changes that still fail.</summary>
internal static class TopologyDocuments
{
    /// <summary>Half the documents change about one field in 14, half one in 60 (about a third of those stay valid).</summary>
    public static Gen<string> Any { get; } = Gen.UInt.Array[0, 400].Select(c => Build(c, mutationOdds: c.Length > 0 && c[0] % 2 == 1 ? 14u : 60u, textMutations: true));

    /// <summary>Only documents without text mutations and with rare field mutations: most of these are valid.</summary>
    public static Gen<string> MostlyValid { get; } = Gen.UInt.Array[0, 400].Select(c => Build(c, mutationOdds: 200, textMutations: false));

    internal static readonly string[] BadCidrs =
    [
        "10.0.1.5/24", "banana", "10.0.1.0", "", " ", "10.0.1.0/33", "10.0.1.0/-1", "/24", "10.0.1.0/", "999.1.1.0/24",
        "10.0.1.0/30", "10.0.1.0/31", "10.0.1.0/32", "0.0.0.0/0", "255.255.255.255/32", "10.0.1.0/24/24", "10.0.1.0/ 24",
        "1e3/8", "10.0.1.0/08", "10.0.1.0/+8", "10.0.0.0/8", "169.254.0.0/16", "127.0.0.0/8", "224.0.0.0/4", "10.0.1.0/99999999999",
        "10.1.0.0/16", "192.168.250.0/24", "10.0.0.0/28", "10.0.0.0/29", "::/0", "10.0.1.0\\24", "１０.0.1.0/24",
    ];

    internal static readonly string[] BadAddresses =
    [
        "10.0.1.256", "10.0.1", "-1.0.0.0", "10.0.1.10.5", "0.0.0.0", "255.255.255.255", "::1", "10.0.1.0", "10.0.1.1",
        "10.0.1.2", "10.0.1.3", "10.0.1.255", "10.0.2.10", "10.1.1.10", "10.0.1.010", "1e1.0.0.1", "", "0x0a.0.1.10", "4294967295",
    ];

    internal static readonly string[] BadNames =
    [
        "; rm -rf / #", "$(reboot)", "`id`", "a'b", "a\"b", "名前", "a b", "-rf", "--help", "../../etc/passwd", new string('a', 300),
        "a\nb", "\0", "ｓｇ", "a*", "UPPER", "sg_client", "-", "0start", "lo", "eth0", "h", "up", "all", "default", "tokyo-nat",
        "sg-client", "ap-southeast-1", "null", "~", "true", "%x", "\\", "a\tb", "\u202Eevil", "\uFEFFbom",
    ];

    internal static readonly string[] BadNumbers =
    [
        "-1", "0", "1", "99999999999999999999", "2147483648", "-2147483649", "1e9", "0x10", "1_000", "NaN", ".inf", "-.inf",
        "abc", "1.5", "+5", " 5", "5 ", "٥", "0b101", "68", "575", "9001", "9002", "1_500",
    ];

    /// <summary>Written into the document without quoting: YAML syntax, tags, aliases, flow collections.</summary>
    internal static readonly string[] RawYaml =
    [
        "[a, b", "{", "}", "*undefined", "&a", "!!binary x", "!!int 3", "!!float x", "'unterminated", "\"unterminated", "- x", ": :",
        "|", ">", "%TAG", "@x", "`x`", "[]", "{}", "[[[]]]", "{a: {b: {c: {}}}}", "!custom x", "? complex\n  : key", "*", "&", "!",
        "[1, [2, [3, [4, [5, [6]]]]]]", "null", "~", "{a: 1, a: 2}", "[*undefined]", "!!map {}", "!!seq []", "!!str",
    ];

    private static readonly string[] RegionNames = ["ap-southeast-1", "ap-northeast-1", "ap-southeast-2", "eu-west-1", "us-east-1"];

    private static string Build(uint[] choices, uint mutationOdds, bool textMutations)
    {
        var c = new Choices(choices, mutationOdds);
        var w = new Writer(c);
        var regionCount = c.Next(8) switch { < 6 => 2, 6 => 3, _ => (int)c.Next(5) };
        w.Field(0, "stack", "egress-prop", BadNames);
        if (c.Rare(40))
        {
            w.Line(0, "stacks: typo");
        }

        if (!c.Rare(60))
        {
            w.Line(0, "regions:");
            for (var r = 0; r < regionCount; r++)
            {
                Region(w, c, r, regionCount);
            }
        }

        w.Line(0, "overlay:");
        w.Field(1, "mode", c.Next(4) switch { 0 => "ipip", 1 => "vxlan", 2 => "gre", _ => "auto" }, ["ipipp", "IPIP", "wireguard", ""]);
        w.Field(1, "pool", "192.168.250.0/24", BadCidrs);
        w.Field(1, "underlayMtu", "1500", BadNumbers);
        if (c.Next(3) == 0)
        {
            w.Line(0, "tunings:");
            w.Field(1, "bbr", "true", ["maybe", "yes", "1", "TRUE"]);
            w.Field(1, "fq", "true", ["no", "0"]);
            w.Field(1, "rpFilter", "off", ["on", "2", "strict"]);
            w.Field(1, "conntrackMax", "auto", BadNumbers);
        }

        if (c.Next(3) == 0)
        {
            w.Line(0, "failover:");
            w.Field(1, "policy", "fail-closed", ["fail-open", "closed", ""]);
            w.Field(1, "probeIntervalMs", "200", BadNumbers);
            w.Field(1, "downAfter", "3", BadNumbers);
            w.Field(1, "upAfter", "5", BadNumbers);
            w.Field(1, "holdDownMs", "5000", BadNumbers);
        }

        if (c.Next(3) == 0)
        {
            w.Line(0, "access:");
            w.Field(1, "ssh", c.Next(2) == 0 ? "none" : "198.51.100.7/32", BadCidrs);
        }

        if (c.Next(3) == 0)
        {
            w.Line(0, "verify:");
            w.Line(1, "targets:");
            w.Item(2, "https://api.binance.com/api/v3/time", ["ftp://x", "api.binance.com", "https://", "http://[::1", ""]);
            w.Field(1, "ipEcho", "https://ipinfo.io/json", ["ipinfo.io", "x"]);
            w.Line(1, "criteria:");
            w.Field(2, "rounds", "5", BadNumbers);
            w.Field(2, "coldLatencyMs", "{ min: 200, max: 400 }", ["{ min: 500, max: 400 }", "{ min: -1, max: 0 }", "{ min: x }", "[]"], raw: true);
        }

        if (c.Next(3) == 0)
        {
            w.Line(0, "lab:");
            w.Line(1, "latency:");
            w.Line(2, "- between: " + (c.Rare(4) ? "[ap-southeast-1]" : c.Rare(4) ? "[internet, internet]" : "[ap-southeast-1, ap-northeast-1]"));
            w.Field(3, "rttMs", "70", BadNumbers);
        }

        var text = w.ToString();
        return textMutations ? MutateText(text, c) : text;
    }

    private static void Region(Writer w, Choices c, int r, int regionCount)
    {
        if (r > 0 && c.Rare(40))
        {
            w.Line(1, "- *r0");
            return;
        }

        if (c.Rare(80))
        {
            w.Line(1, "- " + c.Pick(RawYaml));
            return;
        }

        var name = r < RegionNames.Length ? RegionNames[r] : "region-" + r.ToString(CultureInfo.InvariantCulture);
        w.Line(1, r == 0 && c.Rare(10) ? "- &r0" : "-");
        w.Field(2, "name", name, [.. BadNames, .. RegionNames]);
        w.Field(2, "vpc", Inv($"10.{r}.0.0/16"), BadCidrs);
        var subnets = c.Next(6) switch { < 4 => 1, 4 => 2, _ => (int)c.Next(4) };
        w.Line(2, "subnets:");
        for (var s = 0; s < subnets; s++)
        {
            w.Line(3, "-");
            w.Field(4, "name", "public-" + (char)('a' + s), ["", "public-a", "x y"]);
            w.Field(4, "cidr", Inv($"10.{r}.{s + 1}.0/24"), BadCidrs);
            w.Field(4, "az", name + (char)('a' + s), ["us-east-1a", name, name + "z", "a"]);
        }

        var gatewayRegion = r > 0 && r % 2 == 1;
        var hosts = c.Next(6) switch { < 4 => 1, 4 => 2, _ => (int)c.Next(4) };
        w.Line(2, "hosts:");
        for (var h = 0; h < hosts; h++)
        {
            if (h > 0 && c.Rare(30))
            {
                w.Line(3, "- *h0");
                continue;
            }

            w.Line(3, h == 0 && c.Rare(10) ? "- &h0" : "-");
            var hostName = (gatewayRegion ? "gw-" : "client-") + Inv($"{r}-{h}");
            w.Field(4, "name", hostName, BadNames);
            w.Field(4, "role", gatewayRegion ? "gateway" : "client", ["nat", "Client", ""]);
            if (subnets > 1 || c.Rare(8))
            {
                w.Field(4, "subnet", "public-" + (char)('a' + c.Next((uint)Math.Max(subnets, 1))), ["public-z", ""]);
            }

            w.Field(4, "privateIp", Inv($"10.{r}.1.{10 + h}"), BadAddresses);
            w.Field(4, "instanceType", gatewayRegion ? "t3.micro" : "t3.small", ["t4g.micro", "small", "t3.", "x1e.32xlarge"]);
            w.Field(4, "architecture", "amd64", ["arm64", "x86", ""]);
            w.Field(4, "publicIp", gatewayRegion ? "elastic" : "auto", ["none", "static", ""]);
            if (!gatewayRegion)
            {
                var gateways = Enumerable.Range(0, regionCount).Where(g => g % 2 == 1).Select(g => Inv($"gw-{g}-0")).ToList();
                var list = gateways.Count == 0 ? "[]" : "[" + string.Join(", ", gateways.Take(1 + (int)c.Next(2))) + "]";
                w.Field(4, "egressVia", list, ["[client-0-0]", "[nope]", "[gw-1-0, gw-1-0]", "gw-1-0", "[]", "[[gw-1-0]]"], raw: true);
            }

            if (c.Rare(20))
            {
                w.Field(4, "ami", "ami-0123456789abcdef0", ["ami-1", "ami-XYZ"]);
            }
        }
    }

    private static string MutateText(string text, Choices c)
    {
        var mutations = c.Next(6) == 5 ? 1 + (int)c.Next(3) : 0;
        var lines = text.Split('\n').ToList();
        for (var m = 0; m < mutations && lines.Count > 1; m++)
        {
            var at = (int)c.Next((uint)lines.Count);
            switch (c.Next(11))
            {
                case 0:
                    lines.RemoveAt(at);
                    break;
                case 1:
                    lines.Insert(at, lines[at]);
                    break;
                case 2:
                    var other = (int)c.Next((uint)lines.Count);
                    (lines[at], lines[other]) = (lines[other], lines[at]);
                    break;
                case 3:
                    lines[at] = new string(' ', (int)c.Next(4)) + lines[at].TrimStart();
                    break;
                case 4:
                    lines[at] = "\t" + lines[at];
                    break;
                case 5:
                    var cut = (int)c.Next((uint)lines[at].Length + 1);
                    lines[at] = lines[at][..cut];
                    lines.RemoveRange(at + 1, lines.Count - at - 1);
                    break;
                case 6:
                    lines[at] += c.Pick(["\0", "\r", "\uFEFF", "\u2028", "\u0085", "\x1b[31m", "#", " #", ":", "\ud800"]);
                    break;
                case 7:
                    var depth = c.Next(4) == 0 ? 5000 : 1 + (int)c.Next(40);
                    lines[at] = lines[at].TrimEnd() + " " + new string('[', depth) + new string(']', depth);
                    break;
                case 8:
                    lines.Add("---");
                    lines.Add("stack: second");
                    break;
                case 9:
                    lines.Insert(at, "# " + new string('x', c.Next(4) == 0 ? 200_000 : 80));
                    break;
                default:
                    lines[at] = lines[at].Replace(':', c.Next(2) == 0 ? ' ' : '=');
                    break;
            }
        }

        return string.Join('\n', lines);
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The choice stream: past its end every choice is 0, the ordinary one.</summary>
    private sealed class Choices(uint[] values, uint mutationOdds)
    {
        private int _next;

        public uint MutationOdds { get; } = mutationOdds;

        public uint Next(uint bound) => bound == 0 || _next >= values.Length ? 0 : values[_next++] % bound;

        /// <summary>True about once in <paramref name="odds"/> draws, never for choice 0.</summary>
        public bool Rare(uint odds) => Next(odds) == odds - 1;

        public string Pick(IReadOnlyList<string> pool) => pool[(int)Next((uint)pool.Count)];
    }

    private sealed class Writer(Choices c)
    {
        private readonly StringBuilder _text = new();

        public void Line(int indent, string text) => _text.Append(' ', indent * 2).Append(text).Append('\n');

        /// <summary>key: value, where the value may become a hostile one, another type, or the key may be omitted,
        /// repeated or misspelt.</summary>
        public void Field(int indent, string key, string value, IReadOnlyList<string> hostile, bool raw = false)
        {
            if (!c.Rare(c.MutationOdds))
            {
                Line(indent, $"{key}: {(raw ? value : Quote(value))}");
                return;
            }

            switch (c.Next(8))
            {
                case 0 or 1 or 2:
                    Line(indent, $"{key}: {Quote(c.Pick(hostile))}");
                    break;
                case 3:
                    Line(indent, $"{key}: {c.Pick(RawYaml)}");
                    break;
                case 4:
                    Line(indent, $"{key}: {Quote(c.Pick(c.Next(3) switch { 0 => BadCidrs, 1 => BadAddresses, _ => BadNumbers }))}");
                    break;
                case 5:
                    break; // omitted
                case 6:
                    Line(indent, $"{key}: {Quote(value)}");
                    Line(indent, $"{key}: {Quote(value)}");
                    break;
                default:
                    Line(indent, $"{key.ToUpperInvariant()}: {Quote(value)}");
                    break;
            }
        }

        public void Item(int indent, string value, IReadOnlyList<string> hostile) =>
            Line(indent, "- " + Quote(c.Rare(c.MutationOdds) ? c.Pick(hostile) : value));

        public override string ToString() => _text.ToString();

        /// <summary>Plain when YAML reads it back as the same string, else double-quoted with escapes.</summary>
        private static string Quote(string value)
        {
            if (value.Length > 0 && value.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '/' or '-' or '_') &&
                value is not ("null" or "true" or "false" or "~") && value[0] != '-')
            {
                return value;
            }

            var builder = new StringBuilder("\"");
            foreach (var ch in value)
            {
                builder.Append(ch switch
                {
                    '"' => "\\\"",
                    '\\' => "\\\\",
                    '\n' => "\\n",
                    '\t' => "\\t",
                    _ when char.IsControl(ch) || char.IsSurrogate(ch) => "\\u" + ((int)ch).ToString("x4", CultureInfo.InvariantCulture),
                    _ => ch.ToString(),
                });
            }

            return builder.Append('"').ToString();
        }
    }
}
