using System.Globalization;
using System.Text.Json;
using Egress.Aws.Planning;
using Egress.Aws.Ports;

namespace Egress.Aws.Execution;

/// <summary>Who holds a stack's lock: the verb, the user and host, the process id and when it started.</summary>
public sealed record LockHolder(string Command, string User, string Host, int Pid, DateTimeOffset Started)
{
    /// <summary>This process, about to run <paramref name="command"/>.</summary>
    public static LockHolder Current(string command, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return new(command, Environment.UserName, Environment.MachineName, Environment.ProcessId, time.GetUtcNow());
    }

    /// <summary>The parameter's value: {"command", "user", "host", "pid", "started"} (source-generated, <see cref="AwsJson"/>).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, AwsJson.Egress.LockHolder);

    /// <summary>The holder written in the parameter; null when the value is not one egress wrote.</summary>
    public static LockHolder? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            return new LockHolder(root.GetProperty("command").GetString() ?? "?", root.GetProperty("user").GetString() ?? "?",
                root.GetProperty("host").GetString() ?? "?", root.GetProperty("pid").GetInt32(),
                DateTimeOffset.Parse(root.GetProperty("started").GetString() ?? string.Empty, CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    public override string ToString() =>
        $"'egress {Command}' run by {User} on {Host} (pid {Pid}), started {Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC";
}

/// <summary>The stack lock that keeps two apply/destroy runs of one stack apart. It is an SSM parameter
/// <c>/egress/lock/STACK</c> in the topology's first region, created with Overwrite=false: AWS creates a parameter
/// atomically, so of two runs that start together exactly one gets it, the other is refused with the holder named.
/// Released (deleted) when the run ends, whatever the outcome. A lock left by a killed run is never taken over
/// silently: when its process is gone from this host, or it is older than <see cref="StaleAfter"/>, the refusal says it
/// looks stale, and <c>--force-unlock</c> removes it.</summary>
public sealed class StackLock : IAsyncDisposable
{
    /// <summary>An apply waits at most 10 min per instance and 5 min per peering: a lock older than this is almost surely left over.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(2);

    private readonly ISsmPort _ssm;
    private readonly string _value;
    private readonly RetryPolicy _retry;
    private bool _released;

    private StackLock(ISsmPort ssm, string name, string value, RetryPolicy retry)
    {
        _ssm = ssm;
        Name = name;
        _value = value;
        _retry = retry;
    }

    /// <summary>The SSM parameter's name.</summary>
    public string Name { get; }

    public string Region => _ssm.Region;

    public static string ParameterName(string stack) => $"/egress/lock/{stack}";

    /// <summary>Takes the lock or throws <see cref="AwsProvisionException"/> (<see cref="AwsErrorKind.Locked"/>) naming the holder.
    /// <paramref name="forceUnlock"/> first deletes whatever lock is there (the user checked that its run is gone).</summary>
    public static async Task<StackLock> AcquireAsync(IAwsPorts ports, string stack, string region, LockHolder me, bool forceUnlock,
        TimeProvider time, RetryPolicy retry, Action<string>? note, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(me);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(retry);
        var ssm = ports.Ssm(region);
        var name = ParameterName(stack);
        var value = me.ToJson();
        try
        {
            if (forceUnlock)
            {
                var old = await retry.RunAsync(ct => ssm.GetParameterAsync(name, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
                if (old is not null)
                {
                    await retry.RunAsync(ct => ssm.DeleteParameterAsync(name, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
                    note?.Invoke($"--force-unlock: removed the lock {name} in {region} held by {LockHolder.Parse(old)?.ToString() ?? old}");
                }
            }

            if (await retry.RunAsync(ct => ssm.PutParameterIfAbsentAsync(name, value, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false))
            {
                return new StackLock(ssm, name, value, retry);
            }

            var current = await retry.RunAsync(ct => ssm.GetParameterAsync(name, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
            throw Refused(stack, region, name, LockHolder.Parse(current), current, time.GetUtcNow());
        }
        catch (AwsApiException ex)
        {
            throw AwsErrors.Map(ex);
        }
    }

    private static AwsProvisionException Refused(string stack, string region, string name, LockHolder? holder, string? raw, DateTimeOffset now)
    {
        var who = holder?.ToString() ?? (raw is null ? "a run that has just finished" : $"an unknown holder ({raw})");
        var stale = holder is null ? null : StaleReason(holder, now);
        return new AwsProvisionException(AwsErrorKind.Locked, "PutParameter", region,
            $"stack {stack} is locked by {who} (SSM parameter {name})" + (stale is null ? string.Empty : $"; it looks stale: {stale}"),
            stale is null
                ? "wait until that run ends and try again; if you know it was killed, run again with --force-unlock"
                : "if that run is really gone, run again with --force-unlock (never while it still runs: two runs would build duplicates)");
    }

    /// <summary>Why a lock looks left over: its process is not running on this host, or it is older than <see cref="StaleAfter"/>.</summary>
    public static string? StaleReason(LockHolder holder, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(holder);
        if (string.Equals(holder.Host, Environment.MachineName, StringComparison.Ordinal) && !ProcessRuns(holder.Pid))
        {
            return $"process {holder.Pid} no longer runs on {holder.Host}";
        }

        var age = now - holder.Started;
        return age > StaleAfter ? $"it was taken {age.TotalHours:0.#} hours ago" : null;
    }

    private static bool ProcessRuns(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Deletes the lock if it is still this run's (a --force-unlock by someone else may have replaced it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        try
        {
            var current = await _retry.RunAsync(ct => _ssm.GetParameterAsync(Name, ct), CancellationToken.None, RetryPolicy.IsThrottling).ConfigureAwait(false);
            if (current == _value)
            {
                await _retry.RunAsync(ct => _ssm.DeleteParameterAsync(Name, ct), CancellationToken.None, RetryPolicy.IsThrottling).ConfigureAwait(false);
            }
        }
        catch (AwsApiException ex)
        {
            throw AwsErrors.Map(ex);
        }
    }
}
