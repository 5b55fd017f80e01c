using Egress.Aws.Execution;
using Egress.Aws.Ports;
using Egress.Processes;

namespace Egress.Aws.Remote;

/// <summary>Runs a command on an EC2 instance through SSM Run Command (AWS-RunShellScript). Needs an instance profile
/// with AmazonSSMManagedInstanceCore on the host (topology: hosts[].instanceProfile) and no open port at all.
/// SSM returns at most 24,000 characters of each stream.</summary>
public sealed class SsmCommandRunner(ISsmPort ssm, string instanceId, TimeProvider time, RetryPolicy retry) : ICommandRunner
{
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);

    public async Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var started = time.GetTimestamp();
        try
        {
            var script = ShellScript.Of(command);
            var commandId = await retry.RunAsync(ct => ssm.SendShellScriptAsync(instanceId, [script], command.Timeout, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
            var deadline = time.GetUtcNow() + command.Timeout + TimeSpan.FromSeconds(30);
            while (true)
            {
                await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
                var invocation = await retry.RunAsync(ct => ssm.GetInvocationAsync(commandId, instanceId, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
                if (invocation is { IsFinished: true })
                {
                    var exit = invocation.ExitCode >= 0 ? invocation.ExitCode : 1;
                    var stderr = invocation.Status is "Success" or "Failed"
                        ? invocation.StandardError
                        : $"{invocation.StandardError}\nssm: the command ended {invocation.Status} on {instanceId}";
                    return new CommandResult(exit, invocation.StandardOutput, stderr, time.GetElapsedTime(started));
                }

                if (time.GetUtcNow() > deadline)
                {
                    return new CommandResult(124, invocation?.StandardOutput ?? string.Empty,
                        $"ssm: {command.Program} on {instanceId} is still {invocation?.Status ?? "not started"} after {command.Timeout.TotalSeconds:0} s", time.GetElapsedTime(started));
                }
            }
        }
        catch (AwsApiException ex)
        {
            throw AwsErrors.Map(ex);
        }
    }
}
