using System.Diagnostics;
using System.Globalization;
using Egress.Processes;
using Egress.Tests.Shared;

namespace Egress.Verify.RootTests;

/// <summary>A network namespace with only loopback (egv-&lt;random&gt;), two HTTP servers inside it (HTTP/1.1 keep-alive on
/// :8080, HTTP/1.0 closing on :8081) and a listener that never answers (:8082). Nothing is linked to the root namespace;
/// Dispose kills the servers by PID and deletes the namespace.</summary>
public sealed class ScratchNamespace : IDisposable, ICommandRunner
{
    private readonly List<Process> _servers = [];
    private readonly DirectoryInfo _root;

    public ScratchNamespace()
    {
        Prerequisites.RequireRoot();
        Prerequisites.RequireProgram("ip", "iproute2");
        Prerequisites.RequireProgram("curl", "curl");
        Prerequisites.RequireProgram("python3", "python3");
        Name = "egv-" + Guid.NewGuid().ToString("N")[..8];
        _root = Directory.CreateTempSubdirectory("egv-www-");
        File.WriteAllText(Path.Combine(_root.FullName, "time"), "{\"serverTime\":1764133200000}\n");
        IpCommand.Run("netns", "add", Name);
        try
        {
            IpCommand.Run("-n", Name, "link", "set", "lo", "up");
            Serve("import http.server as h, functools, sys; h.SimpleHTTPRequestHandler.protocol_version = 'HTTP/1.1'; "
                + "h.ThreadingHTTPServer(('127.0.0.1', 8080), functools.partial(h.SimpleHTTPRequestHandler, directory=sys.argv[1])).serve_forever()");
            Serve("import http.server as h, functools, sys; "
                + "h.ThreadingHTTPServer(('127.0.0.1', 8081), functools.partial(h.SimpleHTTPRequestHandler, directory=sys.argv[1])).serve_forever()");
            Serve("import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
                + "s.bind(('127.0.0.1', 8082)); s.listen(16); time.sleep(3600)");
            WaitForPort(8080);
            WaitForPort(8081);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }

    public Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default) =>
        ProcessRunner.Instance.RunAsync(command with { Program = "ip", Arguments = ["netns", "exec", Name, command.Program, .. command.Arguments] }, cancellationToken);

    public void Dispose()
    {
        foreach (var server in _servers)
        {
            try
            {
                server.Kill(entireProcessTree: true);
                server.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // already exited
            }

            server.Dispose();
        }

        _servers.Clear();
        IpCommand.TryRun("netns", "del", Name);
        _root.Delete(recursive: true);
    }

    private void Serve(string program)
    {
        var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "netns", "exec", Name, "python3", "-c", program, _root.FullName })
        {
            info.ArgumentList.Add(argument);
        }

        _servers.Add(Process.Start(info)!);
    }

    private void WaitForPort(int port)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var result = RunAsync(CommandSpec.Of("curl", "-s", "-o", "/dev/null", "--max-time", "1", string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/time"))).GetAwaiter().GetResult();
            if (result.Succeeded)
            {
                return;
            }

            Thread.Sleep(100);
        }

        throw new InvalidOperationException($"the test server on :{port} in {Name} did not start");
    }
}
