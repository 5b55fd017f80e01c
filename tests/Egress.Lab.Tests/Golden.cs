using System.Runtime.CompilerServices;

namespace Egress.Lab.Tests;

/// <summary>Golden files beside the tests (Golden/NAME), LF endings. EGRESS_UPDATE_GOLDEN=1 rewrites them.</summary>
internal static class Golden
{
    public static void Verify(string name, string actual, [CallerFilePath] string caller = "")
    {
        var path = Path.Combine(Path.GetDirectoryName(caller)!, "Golden", name);
        actual = actual.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable("EGRESS_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"golden file {path} is missing; run with EGRESS_UPDATE_GOLDEN=1 to write it, then review it.");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}
