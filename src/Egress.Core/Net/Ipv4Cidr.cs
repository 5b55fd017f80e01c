using System.Globalization;

namespace Egress.Core.Net;

/// <summary>An IPv4 prefix whose address has no host bits set (10.0.1.0/24, never 10.0.1.5/24).</summary>
public readonly record struct Ipv4Cidr
{
    public Ipv4Cidr(Ipv4Address network, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        if ((network.Value & ~MaskOf(prefixLength)) != 0)
        {
            throw new ArgumentException($"{network}/{prefixLength} has host bits set.", nameof(network));
        }

        Network = network;
        PrefixLength = prefixLength;
    }

    public Ipv4Address Network { get; }

    public int PrefixLength { get; }

    public uint Mask => MaskOf(PrefixLength);

    /// <summary>Number of addresses in the prefix (2^(32-len)).</summary>
    public long Size => 1L << (32 - PrefixLength);

    public Ipv4Address First => Network;

    public Ipv4Address Last => new(Network.Value | ~Mask);

    public static Ipv4Cidr Parse(string text) =>
        TryParse(text, out var cidr, out var error) ? cidr : throw new FormatException(error);

    /// <summary>Parses "a.b.c.d/n"; on failure <paramref name="error"/> says what is wrong and how to fix it.</summary>
    public static bool TryParse(string? text, out Ipv4Cidr cidr, out string error)
    {
        cidr = default;
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty; write a prefix such as 10.0.0.0/16";
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            error = Ipv4Address.TryParse(text, out _)
                ? $"'{text}' has no prefix length; write it as a.b.c.d/n, e.g. {text}/32"
                : $"'{text}' is not an IPv4 prefix; write it as a.b.c.d/n, e.g. 10.0.0.0/16";
            return false;
        }

        if (!Ipv4Address.TryParse(text[..slash], out var address))
        {
            error = $"'{text}' does not start with an IPv4 address";
            return false;
        }

        var lengthText = text[(slash + 1)..];
        if (!int.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length > 32)
        {
            error = $"'{text}' has prefix length '{lengthText}'; it must be a number from 0 to 32";
            return false;
        }

        var network = new Ipv4Address(address.Value & MaskOf(length));
        if (network != address)
        {
            error = $"'{text}' has host bits set; did you mean {network}/{length}?";
            return false;
        }

        cidr = new Ipv4Cidr(network, length);
        return true;
    }

    public bool Contains(Ipv4Address address) => (address.Value & Mask) == Network.Value;

    public bool Contains(Ipv4Cidr other) => other.PrefixLength >= PrefixLength && Contains(other.Network);

    public bool Overlaps(Ipv4Cidr other) => Contains(other.Network) || other.Contains(Network);

    /// <summary>The address at <paramref name="offset"/> from the network address.</summary>
    public Ipv4Address At(long offset) =>
        offset < 0 || offset >= Size
            ? throw new ArgumentOutOfRangeException(nameof(offset), $"{this} has no address at offset {offset}.")
            : Network.Add(offset);

    /// <summary>The <paramref name="index"/>-th sub-prefix of length <paramref name="length"/>.</summary>
    public Ipv4Cidr Subnet(int length, long index)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, PrefixLength);
        var count = 1L << (length - PrefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        return new Ipv4Cidr(Network.Add(index << (32 - length)), length);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Network}/{PrefixLength}");

    private static uint MaskOf(int length) => length == 0 ? 0u : uint.MaxValue << (32 - length);
}
