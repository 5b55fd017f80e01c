using Egress.Aws.Ports;

namespace Egress.Aws.Execution;

/// <summary>Retries AWS calls that fail for passing reasons: throttling, service hiccups, and the eventual consistency
/// of a resource created moments ago (InvalidXxx.NotFound). Exponential backoff with full jitter, through
/// <see cref="TimeProvider"/> so tests never sleep.</summary>
public sealed class RetryPolicy
{
    private static readonly HashSet<string> Throttling = new(StringComparer.Ordinal)
    {
        "RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException", "ThrottledException",
        "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "RequestTimeout",
    };

    private readonly TimeProvider _time;
    private readonly Random _random;

    public RetryPolicy(TimeProvider time, Random? random = null)
    {
        _time = time;
        _random = random ?? Random.Shared;
    }

    public int MaxAttempts { get; init; } = 10;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Called before each wait: the failure, the attempt that failed (1-based) and the delay.</summary>
    public Action<AwsApiException, int, TimeSpan>? OnRetry { get; init; }

    public static bool IsThrottling(AwsApiException ex) => Throttling.Contains(ex.ErrorCode);

    /// <summary>A NotFound for an id this run created or saw: AWS has not caught up yet.</summary>
    public static bool IsEventualConsistency(AwsApiException ex) => ex.ErrorCode.EndsWith(".NotFound", StringComparison.Ordinal);

    public static bool IsTransient(AwsApiException ex) => IsThrottling(ex) || IsEventualConsistency(ex);

    public TimeSpan DelayFor(int attempt)
    {
        var cap = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(cap / 2 + _random.NextDouble() * cap / 2);
    }

    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken,
        Func<AwsApiException, bool>? transient = null)
    {
        transient ??= IsTransient;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (AwsApiException ex) when (attempt < MaxAttempts && transient(ex))
            {
                var delay = DelayFor(attempt);
                OnRetry?.Invoke(ex, attempt, delay);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public Task RunAsync(Func<CancellationToken, Task> call, CancellationToken cancellationToken, Func<AwsApiException, bool>? transient = null) =>
        RunAsync<bool>(async ct =>
        {
            await call(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken, transient);
}
