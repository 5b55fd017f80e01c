using Egress.Processes;

namespace Egress.Lab;

/// <summary>Runs commands inside one lab namespace: `ip netns exec &lt;ns&gt; PROGRAM ARGS`, so /etc/netns/&lt;ns&gt;/
/// (hosts, resolv.conf, the lab CA) applies. Environment and standard input pass through.</summary>
public sealed class NamespaceRunner(string namespaceName, ICommandRunner? inner = null) : ICommandRunner
{
    public string Namespace { get; } = namespaceName;

    private readonly ICommandRunner _inner = inner ?? ProcessRunner.Instance;

    public CommandSpec Wrap(CommandSpec command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return command with
        {
            Program = "ip",
            Arguments = ["netns", "exec", Namespace, command.Program, .. command.Arguments],
        };
    }

    public Task<CommandResult> RunAsync(CommandSpec command, CancellationToken cancellationToken = default) =>
        _inner.RunAsync(Wrap(command), cancellationToken);
}
