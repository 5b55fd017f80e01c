using Egress.Core.Topology;
using Egress.Processes;
using Egress.Host.Rendering;
using Egress.Tests.Shared;

namespace Egress.Host.Tests;

/// <summary>Skipped for a developer without shellcheck; with CI set it runs, so a missing shellcheck fails it.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ShellcheckTheoryAttribute : TheoryAttribute
{
    public ShellcheckTheoryAttribute()
    {
        if (Prerequisites.FindOnPath("shellcheck") is null && !Prerequisites.InCi)
        {
            Skip = "shellcheck is not installed (apt-get install shellcheck); with CI set this test fails instead";
        }
    }
}

public sealed class ShellcheckTests
{
    public static TheoryData<string, string, OverlayMode> Scripts()
    {
        var data = new TheoryData<string, string, OverlayMode>();
        foreach (var example in Examples.Names)
        {
            foreach (var host in Examples.Load(example).Hosts)
            {
                foreach (var mode in Topologies.ConcreteModes)
                {
                    data.Add(example, host.Name, mode);
                }
            }
        }

        return data;
    }

    public static TheoryData<string> LibraryFiles() => new(ScriptRenderer.LibraryFiles(HostRole.Client).Union(ScriptRenderer.LibraryFiles(HostRole.Gateway)));

    /// <summary>Each library file on its own, as it is in src/Egress.Host/Scripts, comments and all: what crosses files
    /// (a variable one file sets and another reads) says so in a shellcheck directive.</summary>
    [ShellcheckTheory]
    [MemberData(nameof(LibraryFiles))]
    public async Task Shellcheck_LibraryFile_HasNoFindings(string file)
    {
        Prerequisites.RequireProgram("shellcheck", "shellcheck");

        var result = await ProcessRunner.Instance.RunAsync(new CommandSpec("shellcheck", ["--shell=sh", "--severity=style", "-"]) { StandardInput = ScriptRenderer.ReadLibraryFile(file) });

        Assert.True(result.Succeeded, $"shellcheck on Scripts/{file} exited {result.ExitCode}:\n{result.StandardOutput}{result.StandardError}");
    }

    [ShellcheckTheory]
    [MemberData(nameof(Scripts))]
    public async Task Shellcheck_RenderedScript_HasNoFindings(string example, string host, OverlayMode mode)
    {
        Prerequisites.RequireProgram("shellcheck", "shellcheck");
        var script = HostRenderer.Render(Topologies.WithMode(Examples.Load(example), mode), host, RenderFormat.Script);

        var result = await ProcessRunner.Instance.RunAsync(new CommandSpec("shellcheck", ["--shell=sh", "--severity=style", "-"]) { StandardInput = script });

        Assert.True(result.Succeeded, $"shellcheck on {example}/{host} ({mode}) exited {result.ExitCode}:\n{result.StandardOutput}{result.StandardError}");
    }
}
