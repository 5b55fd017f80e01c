using System.Globalization;
using Egress.Core.Topology;

namespace Egress.Host.Failover;

public enum GatewayHealth
{
    Up,
    Down,
}

/// <summary>What the watcher does after a probe round: a gateway changed health, the default halves moved to a
/// gateway, or no gateway is left (the policy applies). <see cref="Gateway"/> is null for <see cref="FailoverEventKind.None"/>.</summary>
public enum FailoverEventKind
{
    Up,
    Down,
    Route,
    None,
}

public sealed record FailoverEvent(FailoverEventKind Kind, string? Gateway, string Reason)
{
    /// <summary>The line the shell watcher's decision step prints for this event (its test output).</summary>
    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} {Gateway ?? "-"} {Reason}";
}

/// <summary>The failover decision rules as a pure model; the rendered script's <c>decide</c> step implements the
/// same rules in awk, and one test table drives both (FailoverRulesTests).
/// <list type="bullet">
/// <item>Every gateway starts up (apply routed via the primary; the watcher confirms or refutes it). A gateway goes
/// down after <see cref="FailoverSettings.DownAfter"/> consecutive missed probes, and a down gateway comes up after
/// <see cref="FailoverSettings.UpAfter"/> consecutive answers, so one that loses every other probe never changes state.</item>
/// <item>While the active gateway is up it stays, unless failback is on and a more preferred gateway has been up for
/// <see cref="FailoverSettings.HoldDownMs"/> (counted from its last transition to up, or from the first round).</item>
/// <item>When the active gateway is down (or there is none) the most preferred up gateway takes over at once.</item>
/// <item>No gateway up: the event <see cref="FailoverEventKind.None"/>; the script applies the policy.</item>
/// </list></summary>
public sealed class FailoverMachine
{
    private readonly FailoverSettings _settings;
    private readonly string[] _names;
    private readonly GatewayHealth[] _health;
    private readonly int[] _misses;
    private readonly int[] _answers;
    private readonly long[] _since;
    private readonly TimeProvider _time;
    private readonly long _epochMs;
    private bool _started;

    /// <param name="gateways">Names in order of preference (primary first).</param>
    /// <param name="active">Index of the gateway the default halves point at when the watcher starts, or -1.</param>
    public FailoverMachine(FailoverSettings settings, IReadOnlyList<string> gateways, TimeProvider time, int active = 0)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(gateways);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(active, -1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(active, gateways.Count);
        _settings = settings;
        _names = [.. gateways];
        _health = new GatewayHealth[_names.Length];
        _misses = new int[_names.Length];
        _answers = new int[_names.Length];
        _since = new long[_names.Length];
        _time = time;
        _epochMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        Active = active;
    }

    /// <summary>Index of the gateway egress goes through, or -1 when none.</summary>
    public int Active { get; private set; }

    public string? ActiveName => Active < 0 ? null : _names[Active];

    public GatewayHealth HealthOf(int gateway) => _health[gateway];

    /// <summary>Milliseconds since the watcher started, the clock the rules and the state file use.</summary>
    public long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds() - _epochMs;

    /// <summary>One probe round: <paramref name="answered"/>[i] is whether gateway i answered.</summary>
    public IReadOnlyList<FailoverEvent> Step(IReadOnlyList<bool> answered)
    {
        ArgumentNullException.ThrowIfNull(answered);
        if (answered.Count != _names.Length)
        {
            throw new ArgumentException($"expected {_names.Length} probe results, got {answered.Count}", nameof(answered));
        }

        var now = NowMs;
        var events = new List<FailoverEvent>();
        for (var i = 0; i < _names.Length; i++)
        {
            if (!_started)
            {
                _since[i] = now;
            }

            if (answered[i])
            {
                _answers[i]++;
                _misses[i] = 0;
                if (_health[i] == GatewayHealth.Down && _answers[i] >= _settings.UpAfter)
                {
                    _health[i] = GatewayHealth.Up;
                    _since[i] = now;
                    events.Add(new FailoverEvent(FailoverEventKind.Up, _names[i], Inv($"{_answers[i]} answers in a row")));
                }
            }
            else
            {
                _misses[i]++;
                _answers[i] = 0;
                if (_health[i] == GatewayHealth.Up && _misses[i] >= _settings.DownAfter)
                {
                    _health[i] = GatewayHealth.Down;
                    _since[i] = now;
                    events.Add(new FailoverEvent(FailoverEventKind.Down, _names[i], Inv($"{_misses[i]} missed probes")));
                }
            }
        }

        _started = true;
        var activeLive = Active >= 0 && _health[Active] == GatewayHealth.Up;
        var best = -1;
        for (var i = 0; i < _names.Length && best < 0; i++)
        {
            if (_health[i] != GatewayHealth.Up)
            {
                continue;
            }

            if (!activeLive || i == Active || (_settings.Failback && now - _since[i] >= _settings.HoldDownMs))
            {
                best = i;
            }
        }

        if (best != Active)
        {
            var reason = best < 0 ? "every gateway is down"
                : Active < 0 ? "no gateway was active"
                : !activeLive ? $"{_names[Active]} is down"
                : Inv($"failback: up for {now - _since[best]} ms (hold-down {_settings.HoldDownMs} ms)");
            events.Add(best < 0
                ? new FailoverEvent(FailoverEventKind.None, null, reason)
                : new FailoverEvent(FailoverEventKind.Route, _names[best], reason));
            Active = best;
        }

        return events;
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
