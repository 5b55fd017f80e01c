using System.Reflection;
using Egress.Aws.Ports;

namespace Egress.Aws.Tests;

/// <summary>apply works on both regions at once: with every call taking a little real time, calls of the two regions overlap.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Apply_Seed_RunsBothRegionsConcurrently()
    {
        var h = new Harness();
        var plan = await h.PlanAsync();
        var slow = new SlowPorts(h.Cloud);

        await new Execution.Executor(slow, h.Clock, new Execution.RetryPolicy(h.Clock)).ApplyAsync(plan, CancellationToken.None);

        Assert.True((await h.PlanAsync()).IsEmpty);
        Assert.True(slow.MaxRegionsInFlight >= 2, $"at most {slow.MaxRegionsInFlight} region(s) had a call in flight at once");
    }

    /// <summary>Delays every port call by a few real milliseconds and records which regions have a call in flight.</summary>
    private sealed class SlowPorts(IAwsPorts inner) : IAwsPorts
    {
        private readonly object _gate = new();
        private readonly Dictionary<string, int> _inFlight = [];

        public int MaxRegionsInFlight { get; private set; }

        public IEc2Port Ec2(string region) => Wrap(inner.Ec2(region), region);

        public ISsmPort Ssm(string region) => Wrap(inner.Ssm(region), region);

        private T Wrap<T>(T port, string region) where T : class
        {
            var proxy = DispatchProxy.Create<T, SlowProxy>();
            ((SlowProxy)(object)proxy).Bind(port, region, this);
            return proxy;
        }

        internal async Task<TResult> Call<TResult>(string region, Func<Task<TResult>> call)
        {
            lock (_gate)
            {
                _inFlight[region] = _inFlight.GetValueOrDefault(region) + 1;
                MaxRegionsInFlight = Math.Max(MaxRegionsInFlight, _inFlight.Count(kv => kv.Value > 0));
            }

            try
            {
                await Task.Delay(3);
                return await call();
            }
            finally
            {
                lock (_gate)
                {
                    _inFlight[region]--;
                }
            }
        }

        internal class SlowProxy : DispatchProxy
        {
            private static readonly MethodInfo CallMethod = typeof(SlowPorts).GetMethod(nameof(Call), BindingFlags.Instance | BindingFlags.NonPublic)!;
            private object? _target;
            private string _region = string.Empty;
            private SlowPorts? _owner;

            internal void Bind(object target, string region, SlowPorts owner) => (_target, _region, _owner) = (target, region, owner);

            protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
            {
                var method = targetMethod!;
                if (!method.ReturnType.IsGenericType)
                {
                    if (method.ReturnType == typeof(Task))
                    {
                        return _owner!.Call<bool>(_region, async () =>
                        {
                            await (Task)method.Invoke(_target, args)!;
                            return true;
                        });
                    }

                    return method.Invoke(_target, args);
                }

                var resultType = method.ReturnType.GetGenericArguments()[0];
                var invoke = typeof(SlowProxy).GetMethod(nameof(Forward), BindingFlags.Static | BindingFlags.NonPublic)!.MakeGenericMethod(resultType);
                var forward = invoke.Invoke(null, [method, _target, args])!;
                return CallMethod.MakeGenericMethod(resultType).Invoke(_owner, [_region, forward]);
            }

            private static Func<Task<TResult>> Forward<TResult>(MethodInfo method, object target, object?[]? args) =>
                () => (Task<TResult>)method.Invoke(target, args)!;
        }
    }
}
