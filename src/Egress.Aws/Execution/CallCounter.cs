using System.Reflection;
using Egress.Aws.Ports;

namespace Egress.Aws.Execution;

/// <summary>Counts the calls that go through any <see cref="IAwsPorts"/> (the SDK or the fake): reads (Describe*, Get*)
/// and mutations (everything else), so every verb can say what it cost.</summary>
public sealed class CallCounter : IAwsPorts
{
    private readonly IAwsPorts _inner;
    private int _reads;
    private int _mutations;

    public CallCounter(IAwsPorts inner)
    {
        _inner = inner;
    }

    public int Reads => Volatile.Read(ref _reads);

    public int Mutations => Volatile.Read(ref _mutations);

    public override string ToString() => $"{Reads} read call{(Reads == 1 ? string.Empty : "s")}, {Mutations} mutating call{(Mutations == 1 ? string.Empty : "s")}";

    public IEc2Port Ec2(string region) => Wrap(_inner.Ec2(region));

    public ISsmPort Ssm(string region) => Wrap(_inner.Ssm(region));

    private T Wrap<T>(T port) where T : class
    {
        var proxy = DispatchProxy.Create<T, CountingProxy>();
        ((CountingProxy)(object)proxy).Bind(port, this);
        return proxy;
    }

    internal void Count(string method)
    {
        if (method.StartsWith("Describe", StringComparison.Ordinal) || method.StartsWith("Get", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _reads);
        }
        else if (method != "get_Region")
        {
            Interlocked.Increment(ref _mutations);
        }
    }

#pragma warning disable CA1812 // Instantiated by DispatchProxy.Create.
    internal class CountingProxy : DispatchProxy
#pragma warning restore CA1812
    {
        private object? _target;
        private CallCounter? _counter;

        internal void Bind(object target, CallCounter counter)
        {
            _target = target;
            _counter = counter;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            _counter!.Count(targetMethod.Name);
            try
            {
                return targetMethod.Invoke(_target, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
                throw;
            }
        }
    }
}
