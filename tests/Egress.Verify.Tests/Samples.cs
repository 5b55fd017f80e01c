using Egress.Processes;

namespace Egress.Verify.Tests;

/// <summary>Recorded outputs of curl, mtr, traceroute, ping and check, kept as files under Samples/.</summary>
internal static class Samples
{
    public static string Text(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", name));

    public static CommandResult Result(string name, int exitCode = 0, string stderr = "") =>
        new(exitCode, Text(name), stderr, TimeSpan.FromMilliseconds(5));

    public static CommandResult Output(string stdout, int exitCode = 0, string stderr = "") =>
        new(exitCode, stdout, stderr, TimeSpan.FromMilliseconds(5));
}
