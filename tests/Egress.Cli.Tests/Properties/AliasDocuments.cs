using System.Globalization;
using System.Text;
using CsCheck;

namespace Egress.Cli.Tests.Properties;

/// <summary>Generates topology documents built around YAML anchors and aliases (issue 24, item 5): a seed-like two-region
/// topology whose region, subnets, hosts, gateway lists and scalars may carry anchors and be repeated by aliases, plus
/// nested alias chains sized around the loader's expansion bound, undefined, self-referencing and redefined anchors,
/// aliases used as keys, and merge keys (<c>&lt;&lt;</c>, which the loader does not support: an unknown key). Choice 0
/// everywhere is the plain valid document, so CsCheck shrinks towards it.</summary>
internal static class AliasDocuments
{
    public static Gen<string> Any { get; } = Gen.UInt.Array[16].Select(Build);

    private static string Build(uint[] c)
    {
        uint At(int i, uint n) => n == 0 ? 0 : c[i] % n;
        bool Odds(int i, uint n) => c[i] % n == 1;

        var regionAliases = Odds(0, 4) ? (int)At(1, 70) : 0;
        var subnetAliases = Odds(2, 4) ? (int)At(3, 210) : 0;
        var hostAliases = Odds(4, 6) ? (int)At(5, 70) : 0;
        var sharedGateways = Odds(6, 2);
        var w = new StringBuilder();
        w.Append("stack: alias-test\n");
        w.Append("regions:\n");
        w.Append(Odds(7, 2) ? "  - &r0\n" : "  -\n");
        w.Append("    name: &sgname ap-southeast-1\n");
        w.Append("    vpc: 10.0.0.0/16\n");
        w.Append("    subnets:\n");
        w.Append("      - &s0 {name: public-a, cidr: 10.0.1.0/24, az: &az ap-southeast-1a}\n");
        Repeat(w, "      - *s0\n", subnetAliases);
        w.Append("    hosts:\n");
        w.Append("      - name: sg-client\n        role: client\n        subnet: public-a\n        privateIp: 10.0.1.10\n        egressVia: &gw [tokyo-nat]\n");
        if (sharedGateways)
        {
            // The one use of aliases a real topology has: two clients sharing their gateway list. Valid.
            w.Append("      - {name: sg-client2, role: client, subnet: public-a, privateIp: 10.0.1.11, egressVia: *gw}\n");
        }

        w.Append("  - name: ap-northeast-1\n    vpc: 10.1.0.0/16\n    subnets: [{name: public-a, cidr: 10.1.1.0/24, az: ap-northeast-1a}]\n");
        w.Append("    hosts:\n      - &h1 {name: tokyo-nat, role: gateway, privateIp: 10.1.1.10}\n");
        Repeat(w, "      - *h1\n", hostAliases);
        Repeat(w, Odds(7, 2) ? "  - *r0\n" : "  - *s0\n", regionAliases);
        switch (At(8, 8))
        {
            case 1:
                w.Append("  - <<: *r0\n    name: ap-southeast-2\n"); // a merge key: '<<' is an unknown key here
                break;
            case 2:
                w.Append("  - *undefined\n");
                break;
            case 3:
                w.Append("  - &self [*self]\n"); // the anchor is not defined until its node ends
                break;
            case 4:
                w.Append("  - {*sgname : x}\n"); // an alias as a key
                break;
            case 5:
                w.Append("  - &s0 {name: public-b}\n  - *s0\n"); // an anchor redefined
                break;
        }

        if (Odds(9, 3))
        {
            // A chain: level 0 anchors `width` scalars, each next level repeats the previous one `width` times. Between
            // 1 and 12^6 nodes expanded: on both sides of the bound.
            var width = 1 + (int)At(10, 12);
            var levels = 1 + (int)At(11, 6);
            w.Append(Odds(12, 2) ? "lab:\n  latency:\n    - between: " : "chain:\n  - ");
            w.Append("&a0 [").Append(string.Join(", ", Enumerable.Repeat("x", width))).Append("]\n");
            for (var level = 1; level <= levels; level++)
            {
                w.Append(Odds(12, 2) ? "    - between: " : "  - ");
                w.Append(CultureInfo.InvariantCulture, $"&a{level} [").Append(string.Join(", ", Enumerable.Repeat($"*a{level - 1}", width))).Append("]\n");
            }
        }

        if (Odds(13, 4))
        {
            w.Append("dns: &dns {resolveVia: gateway}\nfailover: *dns\n"); // the right anchor in the wrong place
        }

        if (Odds(14, 4))
        {
            w.Append("verify:\n  targets: &t [https://api.binance.com/api/v3/time]\n  ipEcho: *t\n");
        }

        return w.ToString();
    }

    private static void Repeat(StringBuilder w, string line, int count)
    {
        for (var i = 0; i < count; i++)
        {
            w.Append(line);
        }
    }
}
