namespace Egress.Cli.Tests;

/// <summary>Runs the CLI in-process in a temporary working directory and captures both streams.</summary>
internal sealed class CliRunner : IDisposable
{
    public CliRunner()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("egress-cli-").FullName;
    }

    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, Directory, colors: false);
        var code = await EgressCli.RunAsync(args, context);
        return (code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
