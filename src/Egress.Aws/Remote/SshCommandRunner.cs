using System.Diagnostics;
using Egress.Processes;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Egress.Aws.Remote;

/// <summary>Where and how to reach a host over SSH.</summary>
public sealed record SshTarget(string Host, string User, string PrivateKeyFile, IHostKeyPolicy HostKeys)
{
    public int Port { get; init; } = 22;

    public const string UbuntuUser = "ubuntu";
}

/// <summary>Runs a command on a host over SSH (SSH.NET), checking the host key with the target's policy.
/// A refused host key is reported as exit 255 with the reason, like OpenSSH.</summary>
public sealed class SshCommandRunner(SshTarget target) : ICommandRunner
{
    public async Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var stopwatch = Stopwatch.StartNew();
        string? refused = null;
        using var key = new PrivateKeyFile(target.PrivateKeyFile);
        using var client = new SshClient(target.Host, target.Port, target.User, key);
        client.HostKeyReceived += (_, e) =>
        {
            e.CanTrust = target.HostKeys.Accept(target.Host, e.HostKeyName, e.FingerPrintSHA256);
            if (!e.CanTrust)
            {
                refused = $"ssh: {target.Host} presented {e.HostKeyName} key SHA256:{e.FingerPrintSHA256}, which does not match ({target.HostKeys.Description}); refusing to connect";
            }
        };
        try
        {
            await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
            using var ssh = client.CreateCommand(ShellScript.Of(command));
            ssh.CommandTimeout = command.Timeout;
            await ssh.ExecuteAsync(cancellationToken).ConfigureAwait(false);
            return new CommandResult(ssh.ExitStatus ?? 255, ssh.Result, ssh.Error, stopwatch.Elapsed);
        }
        catch (SshConnectionException) when (refused is not null)
        {
            return new CommandResult(255, string.Empty, refused, stopwatch.Elapsed);
        }
        catch (SshOperationTimeoutException ex)
        {
            return new CommandResult(124, string.Empty, $"ssh {target.User}@{target.Host}: {ex.Message}", stopwatch.Elapsed);
        }
        catch (Exception ex) when (ex is SshException or System.Net.Sockets.SocketException)
        {
            return new CommandResult(255, string.Empty, refused ?? $"ssh {target.User}@{target.Host}: {ex.Message}", stopwatch.Elapsed);
        }
        finally
        {
            if (client.IsConnected)
            {
                client.Disconnect();
            }
        }
    }
}
