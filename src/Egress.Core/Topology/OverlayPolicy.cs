namespace Egress.Core.Topology;

/// <summary>What <c>overlay.mode: auto</c> becomes, in one place. On EC2 it is IP-in-IP: Ubuntu's kernel has ipip and its
/// 20-byte header costs least. The lab resolves it by probing the kernel it runs on (LabKernel), since a namespace lab
/// can only use what that kernel offers.</summary>
public static class OverlayPolicy
{
    public const OverlayMode OnEc2 = OverlayMode.Ipip;

    /// <summary><paramref name="topology"/> with <c>auto</c> resolved as EC2 does (apply, render, verify, doctor).</summary>
    public static TopologyModel ForEc2(TopologyModel topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return topology.Overlay.Mode == OverlayMode.Auto ? topology with { Overlay = topology.Overlay with { Mode = OnEc2 } } : topology;
    }
}
