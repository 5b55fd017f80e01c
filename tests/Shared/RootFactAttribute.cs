namespace Egress.Tests.Shared;

/// <summary>A test that needs root (network namespaces, nftables). Skipped for a developer who is not root;
/// with CI set it always runs, so a missing prerequisite fails it (BenchmarkDotNet's EnvRequirement idea).
/// Compile this file into a root-only test project with &lt;Compile Include="../Shared/*.cs" /&gt;.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Prerequisites.IsRoot && !Prerequisites.InCi)
        {
            Skip = "needs root (network namespaces); run the tests as root, or set CI=true to make this a failure";
        }
    }
}

/// <summary>A theory that needs root; see <see cref="RootFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute()
    {
        if (!Prerequisites.IsRoot && !Prerequisites.InCi)
        {
            Skip = "needs root (network namespaces); run the tests as root, or set CI=true to make this a failure";
        }
    }
}

public static class Prerequisites
{
    public static bool IsRoot => Environment.UserName == "root" || Environment.GetEnvironmentVariable("EUID") == "0" || GetEuid() == 0;

    public static bool InCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>Fails the test with a message naming what is missing and how to install it.</summary>
    public static void Require(bool condition, string what, string fix)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"prerequisite missing: {what}. Fix: {fix}");
        }
    }

    /// <summary>Fails unless <paramref name="program"/> is on PATH.</summary>
    public static void RequireProgram(string program, string debianPackage) =>
        Require(FindOnPath(program) is not null, $"'{program}' is not on PATH", $"apt-get install {debianPackage}");

    public static void RequireRoot() => Require(IsRoot, "root", "run the tests as root (sudo ./eng/test.sh)");

    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin").Append("/sbin")
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    private static uint GetEuid()
    {
        try
        {
            var status = File.ReadAllLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
            var fields = status?.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            return fields is { Length: > 2 } ? uint.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture) : uint.MaxValue;
        }
        catch (IOException)
        {
            return uint.MaxValue;
        }
    }
}
