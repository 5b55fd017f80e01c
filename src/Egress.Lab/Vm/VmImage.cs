using System.Diagnostics;
using System.Reflection;

namespace Egress.Lab.Vm;

/// <summary>The instance image (eng/vm/image.sh, embedded in this assembly): a Debian bookworm disk built with mmdebstrap,
/// cached under /var/cache/egress-vm/images/&lt;recipe hash&gt;, built on first use with its progress shown.</summary>
public sealed record VmImage(string Directory)
{
    public string RootDisk => Path.Combine(Directory, "root.img");

    public string Kernel => Path.Combine(Directory, "vmlinuz");

    public string Initrd => Path.Combine(Directory, "initrd.img");

    public static string CacheRoot => Environment.GetEnvironmentVariable("EGRESS_VM_CACHE") is { Length: > 0 } dir ? dir : "/var/cache/egress-vm";

    private static readonly string[] RecipeFiles = ["image.sh", "cloud.cfg", "egress-lab-ca.service", "egress-lab-delay", "egress-lab-delay.service"];

    /// <summary>Returns the cached image, building it first when needed (minutes; progress lines go to
    /// <paramref name="progress"/>). Throws <see cref="LabUpFailedException"/> when the build fails.</summary>
    public static async Task<VmImage> EnsureAsync(Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if (Environment.GetEnvironmentVariable("EGRESS_VM_IMAGE") is { Length: > 0 } given)
        {
            // A developer's override: an image directory built before (e.g. while a new recipe builds).
            progress($"image: {given} (EGRESS_VM_IMAGE)");
            return new VmImage(given);
        }

        var recipe = Path.Combine(CacheRoot, "recipe");
        System.IO.Directory.CreateDirectory(recipe);
        foreach (var name in RecipeFiles)
        {
            await using var source = Assembly.GetExecutingAssembly().GetManifestResourceStream("vm/" + name)
                ?? throw new InvalidOperationException($"The image recipe file {name} is not embedded.");
            var target = Path.Combine(recipe, name);
            var temp = target + "." + Environment.ProcessId + ".tmp";
            await using (var file = File.Create(temp))
            {
                await source.CopyToAsync(file, cancellationToken);
            }

            File.Move(temp, target, overwrite: true);
        }

        var start = new ProcessStartInfo("bash", [Path.Combine(recipe, "image.sh"), "build"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["EGRESS_VM_CACHE"] = CacheRoot;
        using var process = Process.Start(start) ?? throw new LabUpFailedException("cannot start bash for the image build");
        var tail = new Queue<string>();
        var errors = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith("image:", StringComparison.Ordinal) || line.StartsWith("I: ", StringComparison.Ordinal))
                {
                    progress(line.StartsWith("I: ", StringComparison.Ordinal) ? "image: mmdebstrap: " + line[3..] : line);
                }

                lock (tail)
                {
                    tail.Enqueue(line);
                    if (tail.Count > 20)
                    {
                        tail.Dequeue();
                    }
                }
            }
        }, cancellationToken);
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        await errors;
        if (process.ExitCode != 0)
        {
            throw new LabUpFailedException($"the VM image build failed (exit {process.ExitCode}; eng/vm/image.sh):\n{string.Join('\n', tail)}");
        }

        var dir = output.Trim().Split('\n')[^1];
        return new VmImage(dir);
    }
}
