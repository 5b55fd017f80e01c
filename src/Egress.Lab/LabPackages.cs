using Egress.Processes;

namespace Egress.Lab;

/// <summary>The programs the lab runs and the Debian packages that carry them.</summary>
public static class LabPackages
{
    public static IReadOnlyList<(string Program, string Package)> Required { get; } =
    [
        ("ip", "iproute2"),
        ("tc", "iproute2"),
        ("nft", "nftables"),
        ("curl", "curl"),
        ("mtr", "mtr-tiny"),
        ("ping", "iputils-ping"),
        ("dnsmasq", "dnsmasq-base"), // the VPC resolvers, the hosts' dns step, the VM lab's DHCP
    ];

    public static IReadOnlyList<string> Missing() =>
        [.. Required.Where(r => FindOnPath(r.Program) is null).Select(r => r.Package).Distinct()];

    /// <summary>Installs missing packages with apt-get (root only), saying so; throws when it cannot.</summary>
    public static async Task<IReadOnlyList<string>> EnsureAsync(ICommandRunner runner, Action<string> progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(progress);
        var missing = Missing();
        if (missing.Count == 0)
        {
            return missing;
        }

        if (FindOnPath("apt-get") is null)
        {
            throw new LabException($"the lab needs {string.Join(", ", missing)} and this machine has no apt-get: install them with your package manager.");
        }

        progress($"installing missing packages: {string.Join(' ', missing)} (apt-get)");
        var env = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        var install = new CommandSpec("apt-get", ["install", "-y", "-qq", "--no-install-recommends", .. missing]) { Environment = env, Timeout = TimeSpan.FromMinutes(10) };
        var result = await runner.RunAsync(install, cancellationToken);
        if (!result.Succeeded)
        {
            await runner.RunAsync(new CommandSpec("apt-get", ["update", "-qq"]) { Environment = env, Timeout = TimeSpan.FromMinutes(10) }, cancellationToken);
            result = await runner.RunAsync(install, cancellationToken);
        }

        if (!result.Succeeded)
        {
            throw new LabException($"apt-get install {string.Join(' ', missing)} failed: {result.StandardError.Trim()}");
        }

        return missing;
    }

    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"])
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    public static bool IsRoot => Environment.UserName == "root" || geteuid() == 0;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();
}
