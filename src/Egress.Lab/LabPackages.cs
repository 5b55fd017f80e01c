using Egress.Lab.World;
using Egress.Processes;

namespace Egress.Lab;

/// <summary>The programs the lab runs and the Debian packages that carry them, and the one policy for what is missing,
/// the same for the namespace lab and the VM lab: `lab up` and `lab run` (as root) install it with apt-get, saying so
/// first; where that is impossible (no apt-get, or apt-get fails) they refuse, naming the packages.</summary>
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

    /// <summary>What `--instances vm` runs besides: QEMU, qemu-img for each VM's overlay disk, the instance image's build
    /// (eng/vm/image.sh: mmdebstrap, mke2fs) and the lab's SSH key. (qemu-system-x86 only recommends qemu-utils.)</summary>
    public static IReadOnlyList<(string Program, string Package)> VmRequired { get; } =
    [
        ("qemu-system-x86_64", "qemu-system-x86"),
        ("qemu-img", "qemu-utils"),
        ("mmdebstrap", "mmdebstrap"),
        ("mke2fs", "e2fsprogs"),
        ("ssh-keygen", "openssh-client"),
    ];

    /// <summary>Every program a lab of <paramref name="instances"/> runs.</summary>
    public static IReadOnlyList<(string Program, string Package)> For(LabInstances instances) =>
        instances == LabInstances.Vm ? [.. Required, .. VmRequired] : Required;

    /// <summary>The packages of the programs in <paramref name="required"/> that <paramref name="isInstalled"/> does not
    /// find, each once, in the list's order.</summary>
    public static IReadOnlyList<string> Missing(IReadOnlyList<(string Program, string Package)> required, Func<string, bool> isInstalled)
    {
        ArgumentNullException.ThrowIfNull(required);
        ArgumentNullException.ThrowIfNull(isInstalled);
        return [.. required.Where(r => !isInstalled(r.Program)).Select(r => r.Package).Distinct()];
    }

    public static IReadOnlyList<string> Missing(LabInstances instances = LabInstances.Namespaces) =>
        Missing(For(instances), p => FindOnPath(p) is not null);

    /// <summary>Installs the missing packages of a lab of <paramref name="instances"/> with apt-get (root only), saying so;
    /// throws <see cref="LabException"/> naming them when it cannot. <paramref name="isInstalled"/> (a test's) defaults to a
    /// search of PATH and the sbin/bin directories.</summary>
    public static async Task<IReadOnlyList<string>> EnsureAsync(ICommandRunner runner, Action<string> progress, LabInstances instances = LabInstances.Namespaces,
        Func<string, bool>? isInstalled = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(progress);
        isInstalled ??= p => FindOnPath(p) is not null;
        var missing = Missing(For(instances), isInstalled);
        if (missing.Count == 0)
        {
            return missing;
        }

        if (!isInstalled("apt-get"))
        {
            throw new LabException($"{Who(instances)} needs {Listed(instances, missing)} and this machine has no apt-get: install them with your package manager.");
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
            throw new LabException($"{Who(instances)} needs {Listed(instances, missing)}, and 'apt-get install {string.Join(' ', missing)}' failed (exit {result.ExitCode}): {result.StandardError.Trim()}");
        }

        return missing;
    }

    /// <summary>What a part of the lab that needs <paramref name="instances"/>' programs says when one is still missing
    /// (the controller's guard for callers that did not run <see cref="EnsureAsync"/>): the packages and how to get them.</summary>
    public static string MissingMessage(LabInstances instances, IReadOnlyList<string> missing) =>
        $"{Who(instances)} needs {Listed(instances, missing)}: 'egress lab up' installs them (as root, with apt-get), or run 'apt-get install {string.Join(' ', missing)}'.";

    private static string Who(LabInstances instances) => instances == LabInstances.Vm ? "'lab up --instances vm'" : "the lab";

    /// <summary>"qemu-utils (qemu-img), mmdebstrap": each package with the programs of it that are missing.</summary>
    private static string Listed(LabInstances instances, IReadOnlyList<string> missing) =>
        string.Join(", ", missing.Select(package =>
        {
            var programs = For(instances).Where(r => r.Package == package && r.Program != package).Select(r => r.Program).ToList();
            return programs.Count == 0 ? package : $"{package} ({string.Join(", ", programs)})";
        }));

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
