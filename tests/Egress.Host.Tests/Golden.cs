using System.Runtime.CompilerServices;
using System.Text;

namespace Egress.Host.Tests;

/// <summary>Verified files under Golden/ in the source tree. On a mismatch (or a missing file) the actual text is
/// written next to it as NAME.received.EXT and the test fails; review it and rename it to accept it.</summary>
internal static class Golden
{
    public static string Directory([CallerFilePath] string source = "") => Path.Combine(Path.GetDirectoryName(source)!, "Golden");

    /// <summary>docs/host-scripts: the full rendered seed scripts, verified the same way.</summary>
    public static string DocsDirectory() => Path.GetFullPath(Path.Combine(Directory(), "..", "..", "..", "docs", "host-scripts"));

    public static void Verify(string name, string actual) => Verify(Directory(), name, actual);

    public static void Verify(string directory, string name, string actual)
    {
        var verified = Path.Combine(directory, name);
        var extension = Path.GetExtension(name);
        var received = Path.Combine(directory, Path.GetFileNameWithoutExtension(name) + ".received" + extension);
        Assert.DoesNotContain('\r', actual);
        var expected = File.Exists(verified) ? File.ReadAllText(verified, Encoding.UTF8) : null;
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual, new UTF8Encoding(false));
        Assert.Fail(expected is null
            ? $"No verified file {verified}. Wrote {received}: review it and rename it to {name}."
            : $"{name} differs from the rendered text (first difference at line {FirstDifference(expected, actual)}). " +
              $"Wrote {received}: compare with `diff {verified} {received}`; if the change is right, rename it over {name}.");
    }

    private static int FirstDifference(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            if (a[i] != b[i])
            {
                return i + 1;
            }
        }

        return Math.Min(a.Length, b.Length) + 1;
    }
}
