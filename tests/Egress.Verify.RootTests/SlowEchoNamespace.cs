using System.Diagnostics;
using Egress.Processes;
using Egress.Tests.Shared;

namespace Egress.Verify.RootTests;

/// <summary>A namespace with only loopback (egp-&lt;random&gt;) whose kernel ignores ICMP echoes; a raw-socket responder
/// answers them instead, in order like a host that stalls: the Nth echo after the Nth of <c>delays</c> (seconds,
/// comma-separated; the last repeats; <c>drop</c>: never) and never before the echo ahead of it. Dispose kills the responder by PID and deletes the namespace.</summary>
public sealed class SlowEchoNamespace : IDisposable, ICommandRunner
{
    private const string Responder = """
        import queue, socket, struct, sys, threading, time
        delays = sys.argv[1].split(",")
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        pending = queue.Queue()
        def checksum(b):
            t = sum(struct.unpack("!%dH" % (len(b) // 2), b + b"\0" * (len(b) % 2)))
            t = (t >> 16) + (t & 0xffff)
            return ~(t + (t >> 16)) & 0xffff
        def answer():
            while True:
                icmp, addr, due = pending.get()
                time.sleep(max(0, due - time.monotonic()))
                reply = bytearray(icmp); reply[0] = 0; reply[2:4] = b"\0\0"
                reply[2:4] = struct.pack("!H", checksum(bytes(reply)))
                s.sendto(bytes(reply), addr)
        threading.Thread(target=answer, daemon=True).start()
        print("ready", flush=True)
        n = 0
        while True:
            packet, addr = s.recvfrom(65535)
            icmp = packet[(packet[0] & 15) * 4:]
            if icmp[0] != 8:
                continue
            delay = delays[min(n, len(delays) - 1)]
            n += 1
            if delay != "drop":
                pending.put((icmp, addr, time.monotonic() + float(delay)))
        """;

    private readonly Process _responder;

    public SlowEchoNamespace(string delays)
    {
        Prerequisites.RequireRoot();
        Prerequisites.RequireProgram("ip", "iproute2");
        Prerequisites.RequireProgram("python3", "python3");
        Name = "egp-" + Guid.NewGuid().ToString("N")[..8];
        IpCommand.Run("netns", "add", Name);
        try
        {
            IpCommand.Run("-n", Name, "link", "set", "lo", "up");
            IpCommand.Run("netns", "exec", Name, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1");
            var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "netns", "exec", Name, "python3", "-c", Responder, delays })
            {
                info.ArgumentList.Add(argument);
            }

            _responder = Process.Start(info)!;
            if (_responder.StandardOutput.ReadLine() != "ready")
            {
                throw new InvalidOperationException($"the echo responder in {Name} did not start: {_responder.StandardError.ReadToEnd()}");
            }
        }
        catch
        {
            _responder?.Kill(entireProcessTree: true);
            IpCommand.TryRun("netns", "del", Name);
            throw;
        }
    }

    public string Name { get; }

    public Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default) =>
        ProcessRunner.Instance.RunAsync(command with { Program = "ip", Arguments = ["netns", "exec", Name, command.Program, .. command.Arguments] }, cancellationToken);

    public void Dispose()
    {
        try
        {
            _responder.Kill(entireProcessTree: true);
            _responder.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }

        _responder.Dispose();
        IpCommand.TryRun("netns", "del", Name);
    }
}
