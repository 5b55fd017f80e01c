namespace Egress.Core.Topology;

/// <summary>Tunnel MTU and TCP MSS from the underlay MTU and the overlay's encapsulation overhead.</summary>
public static class Mtu
{
    public const int DefaultUnderlay = 1500;

    /// <summary>The smallest IPv4 MTU every host must accept (RFC 791).</summary>
    public const int MinimumIpv4 = 576;

    /// <summary>Largest MTU on AWS (jumbo frames inside a VPC).</summary>
    public const int MaximumAws = 9001;

    public static int Overhead(OverlayMode mode) => mode switch
    {
        OverlayMode.Ipip => 20,
        OverlayMode.Gre => 24,
        OverlayMode.Vxlan => 50,
        OverlayMode.Auto => 50, // Worst case of its candidates (VXLAN), so the MTU is safe whichever is chosen.
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    public static int Tunnel(int underlayMtu, OverlayMode mode) => underlayMtu - Overhead(mode);

    /// <summary>IPv4 header (20) and TCP header (20) off the MTU.</summary>
    public static int MssFor(int mtu) => mtu - 40;
}
