using System.Globalization;

namespace Egress.Core.Net;

/// <summary>An IPv4 address as a 32-bit number; parsing accepts only dotted quads.</summary>
public readonly record struct Ipv4Address(uint Value) : IComparable<Ipv4Address>
{
    public static Ipv4Address Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not an IPv4 address.");

    public static bool TryParse(string? text, out Ipv4Address address)
    {
        address = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }

        uint value = 0;
        foreach (var part in parts)
        {
            if (part.Length is 0 or > 3 || !part.All(char.IsAsciiDigit) || (part.Length > 1 && part[0] == '0'))
            {
                return false;
            }

            var octet = int.Parse(part, CultureInfo.InvariantCulture);
            if (octet > 255)
            {
                return false;
            }

            value = (value << 8) | (uint)octet;
        }

        address = new Ipv4Address(value);
        return true;
    }

    public Ipv4Address Add(long offset) => new((uint)(Value + offset));

    public int CompareTo(Ipv4Address other) => Value.CompareTo(other.Value);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Value >> 24}.{(Value >> 16) & 0xFF}.{(Value >> 8) & 0xFF}.{Value & 0xFF}");

    public static bool operator <(Ipv4Address left, Ipv4Address right) => left.Value < right.Value;

    public static bool operator >(Ipv4Address left, Ipv4Address right) => left.Value > right.Value;

    public static bool operator <=(Ipv4Address left, Ipv4Address right) => left.Value <= right.Value;

    public static bool operator >=(Ipv4Address left, Ipv4Address right) => left.Value >= right.Value;
}
