using System.Globalization;
using System.Text.Json;
using Egress.Aws.Model;
using Egress.Aws.Planning;
using Egress.Aws.Ports;

namespace Egress.Aws.Execution;

/// <summary>Who holds a stack's lock: the verb, the user and host, the process id and when it started. <see cref="ProcessStart"/>
/// identifies the process itself (Linux: the boot id and the process's start time in clock ticks from /proc/PID/stat), so a
/// pid reused by another process after the holder died is not taken for the holder.</summary>
public sealed record LockHolder(string Command, string User, string Host, int Pid, DateTimeOffset Started, string? ProcessStart = null)
{
    /// <summary>This process, about to run <paramref name="command"/>.</summary>
    public static LockHolder Current(string command, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return new(command, Environment.UserName, Environment.MachineName, Environment.ProcessId, time.GetUtcNow(), ProcessIdentity.StartOf(Environment.ProcessId));
    }

    /// <summary>The parameter's value: {"command", "user", "host", "pid", "started", "processStart"} (source-generated, <see cref="AwsJson"/>).</summary>
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
            var processStart = root.TryGetProperty("processStart", out var ps) && ps.ValueKind == JsonValueKind.String ? ps.GetString() : null;
            return new LockHolder(root.GetProperty("command").GetString() ?? "?", root.GetProperty("user").GetString() ?? "?",
                root.GetProperty("host").GetString() ?? "?", root.GetProperty("pid").GetInt32(),
                DateTimeOffset.Parse(root.GetProperty("started").GetString() ?? string.Empty, CultureInfo.InvariantCulture), processStart);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>True when the holder is a process that still runs on this host (same host name, the pid runs, and, when the
    /// record has it, the same process start: a reused pid is not the holder).</summary>
    public bool RunsOnThisHost() =>
        string.Equals(Host, Environment.MachineName, StringComparison.Ordinal) && ProcessIdentity.Runs(Pid, ProcessStart);

    public override string ToString() =>
        $"'egress {Command}' run by {User} on {Host} (pid {Pid}), started {Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC";
}

/// <summary>Whether a process runs, told apart from a later process that got the same pid.</summary>
public static class ProcessIdentity
{
    /// <summary>"BOOT_ID/STARTTIME" on Linux (starttime: field 22 of /proc/PID/stat, clock ticks since boot); null elsewhere
    /// or when the process does not exist.</summary>
    public static string? StartOf(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            // fields[0] is field 3 (state); starttime is field 22.
            if (fields.Length < 20 || fields[0] == "Z")
            {
                return null;
            }

            var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            return $"{boot}/{fields[19]}";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>True when <paramref name="pid"/> runs and (when <paramref name="processStart"/> is known) is the process that
    /// recorded it.</summary>
    public static bool Runs(int pid, string? processStart)
    {
        if (pid <= 0)
        {
            return false;
        }

        if (OperatingSystem.IsLinux())
        {
            var now = StartOf(pid);
            return now is not null && (processStart is null || string.Equals(now, processStart, StringComparison.Ordinal));
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}

/// <summary>The stack lock that keeps two apply/destroy runs of one stack apart. It is the SSM parameter
/// <c>/egress/lock/STACK</c>, held in <b>every region of the stack's footprint</b>: the topology's regions plus every region
/// where the stack's tag is found, taken in lexicographic (ordinal) order, so the order of regions in a file does not matter.
/// Each parameter is created with Overwrite=false: AWS creates a parameter atomically, so of two runs whose footprints share a
/// region at most one holds that region, and the other is refused with the holder named (and releases what it took). Taking
/// the locks in one global order means that of two runs at least one gets all it needs. Released (deleted) when the run
/// ends, whatever the outcome. A lock left by a killed run is never taken over silently: when its process is gone from this
/// host, or it is older than <see cref="StaleAfter"/>, the refusal says it looks stale, and <c>--force-unlock</c> removes
/// it; <c>--force-unlock</c> refuses (bad input) while the holder still runs on this host.</summary>
public sealed class StackLock : IAsyncDisposable
{
    /// <summary>An apply waits at most 10 min per instance and 5 min per peering: a lock older than this is almost surely left over.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(2);

    private readonly IReadOnlyList<ISsmPort> _held;
    private readonly string _value;
    private readonly RetryPolicy _retry;
    private bool _released;

    private StackLock(IReadOnlyList<ISsmPort> held, string stack, string name, string value, RetryPolicy retry)
    {
        _held = held;
        Stack = stack;
        Name = name;
        _value = value;
        _retry = retry;
    }

    /// <summary>The SSM parameter's name.</summary>
    public string Name { get; }

    public string Stack { get; }

    /// <summary>True until the lock is released.</summary>
    public bool IsHeld => !_released;

    /// <summary>The regions where the lock is held, in the order taken (ordinal); the first is the stack's home region.</summary>
    public IReadOnlyList<string> Regions => [.. _held.Select(s => s.Region)];

    /// <summary>The regions where the lock is held, as text ("ap-northeast-1, ap-southeast-1").</summary>
    public string Region => string.Join(", ", Regions);

    public static string ParameterName(string stack) => $"/egress/lock/{stack}";

    /// <summary>The regions a run of the stack locks: <paramref name="regions"/> (the topology's plus those where the stack is
    /// found), distinct, in ordinal order.</summary>
    public static IReadOnlyList<string> LockOrder(IEnumerable<string> regions) => [.. regions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>Takes the lock in every region of <paramref name="regions"/> (in <see cref="LockOrder"/>) or throws
    /// <see cref="AwsProvisionException"/> (<see cref="AwsErrorKind.Locked"/>) naming the holder, having released what it took.
    /// <paramref name="forceUnlock"/> first deletes whatever lock is there (the user checked that its run is gone); it refuses
    /// (<see cref="AwsErrorKind.BadInput"/>, nothing deleted) while a holder still runs on this host.</summary>
    public static async Task<StackLock> AcquireAsync(IAwsPorts ports, string stack, IReadOnlyList<string> regions, LockHolder me, bool forceUnlock,
        TimeProvider time, RetryPolicy retry, Action<string, string>? note, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ports);
        ArgumentNullException.ThrowIfNull(regions);
        ArgumentNullException.ThrowIfNull(me);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(retry);
        StackNames.Require(stack, regions.FirstOrDefault() ?? "-");
        var order = LockOrder(regions);
        if (order.Count == 0)
        {
            throw new ArgumentException("A stack lock needs at least one region.", nameof(regions));
        }

        var name = ParameterName(stack);
        var value = me.ToJson();
        var held = new List<ISsmPort>();
        try
        {
            if (forceUnlock)
            {
                await ForceUnlockAsync(ports, stack, order, name, retry, note, cancellationToken).ConfigureAwait(false);
            }

            foreach (var region in order)
            {
                var ssm = ports.Ssm(region);
                if (await retry.RunAsync(ct => ssm.PutParameterIfAbsentAsync(name, value, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false))
                {
                    held.Add(ssm);
                    continue;
                }

                var current = await retry.RunAsync(ct => ssm.GetParameterAsync(name, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
                throw Refused(stack, region, name, LockHolder.Parse(current), current, time.GetUtcNow());
            }

            return new StackLock(held, stack, name, value, retry);
        }
        catch (Exception ex)
        {
            try
            {
                await ReleaseAsync(held, name, value, retry).ConfigureAwait(false);
            }
            catch (AwsProvisionException)
            {
                // the refusal (or the failure) that got us here is the error to report
            }

            if (ex is AwsApiException api)
            {
                throw AwsErrors.Map(api);
            }

            throw;
        }
    }

    /// <summary>Reads the lock in every region first; refuses (nothing deleted) when any holder still runs on this host;
    /// then deletes each one found.</summary>
    private static async Task ForceUnlockAsync(IAwsPorts ports, string stack, IReadOnlyList<string> order, string name, RetryPolicy retry,
        Action<string, string>? note, CancellationToken cancellationToken)
    {
        var found = new List<(string Region, ISsmPort Ssm, string Value)>();
        foreach (var region in order)
        {
            var ssm = ports.Ssm(region);
            var old = await retry.RunAsync(ct => ssm.GetParameterAsync(name, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
            if (old is null)
            {
                continue;
            }

            if (LockHolder.Parse(old) is { } holder && holder.RunsOnThisHost())
            {
                throw new AwsProvisionException(AwsErrorKind.BadInput, "--force-unlock", region,
                    $"stack {stack} is locked by {holder} (SSM parameter {name}), and process {holder.Pid} still runs on this host: --force-unlock removes only a lock whose run is gone; nothing was unlocked",
                    $"wait until that run ends (or stop it: kill {holder.Pid}) and try again; two runs at once would build duplicates");
            }

            found.Add((region, ssm, old));
        }

        foreach (var (region, ssm, old) in found)
        {
            await retry.RunAsync(ct => ssm.DeleteParameterAsync(name, ct), cancellationToken, RetryPolicy.IsThrottling).ConfigureAwait(false);
            note?.Invoke(region, $"--force-unlock: removed the lock {name} in {region} held by {LockHolder.Parse(old)?.ToString() ?? old}");
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
        if (string.Equals(holder.Host, Environment.MachineName, StringComparison.Ordinal) && !holder.RunsOnThisHost())
        {
            return $"process {holder.Pid} no longer runs on {holder.Host}";
        }

        var age = now - holder.Started;
        return age > StaleAfter ? $"it was taken {age.TotalHours:0.#} hours ago" : null;
    }

    /// <summary>Deletes the lock in each region where it is still this run's (a --force-unlock by someone else may have replaced it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        await ReleaseAsync(_held, Name, _value, _retry).ConfigureAwait(false);
    }

    private static async Task ReleaseAsync(IReadOnlyList<ISsmPort> held, string name, string value, RetryPolicy retry)
    {
        AwsApiException? first = null;
        foreach (var ssm in held.Reverse())
        {
            try
            {
                var current = await retry.RunAsync(ct => ssm.GetParameterAsync(name, ct), CancellationToken.None, RetryPolicy.IsThrottling).ConfigureAwait(false);
                if (current == value)
                {
                    await retry.RunAsync(ct => ssm.DeleteParameterAsync(name, ct), CancellationToken.None, RetryPolicy.IsThrottling).ConfigureAwait(false);
                }
            }
            catch (AwsApiException ex)
            {
                first ??= ex; // release the other regions anyway
            }
        }

        if (first is not null)
        {
            throw AwsErrors.Map(first);
        }
    }
}
