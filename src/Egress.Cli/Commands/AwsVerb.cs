using Egress.Core;
using System.CommandLine;
using System.Text.Json;
using Egress.Aws;
using Egress.Aws.Execution;
using Egress.Aws.Model;
using Egress.Aws.Planning;
using Egress.Aws.Remote;
using Egress.Aws.Sdk;
using Egress.Core.IO;
using Egress.Core.Topology;
using Spectre.Console;

namespace Egress.Cli.Commands;

/// <summary>What plan, apply, destroy and status share: the options, the ports, error printing, the call count.</summary>
internal sealed class AwsVerb
{
    private readonly CliContext _context;

    public AwsVerb(CliContext context, Command command, bool desiredState, bool changesAws = false)
    {
        _context = context;
        command.Options.Add(File);
        command.Options.Add(Profile);
        command.Options.Add(EndpointUrl);
        command.Options.Add(Output);
        if (desiredState)
        {
            command.Options.Add(SshPublicKey);
        }

        if (changesAws)
        {
            command.Options.Add(Yes);
            command.Options.Add(ForceUnlock);
        }
    }

    public Option<bool> Yes { get; } = new("--yes", "-y") { Description = "Do not ask for confirmation (needed when stdin is not a terminal)." };

    public Option<bool> ForceUnlock { get; } = new("--force-unlock")
    {
        Description = "Remove the stack's lock left by a run that was killed, then take it. Only when that run is really gone: two runs at once would build duplicates.",
    };

    public Option<string> File { get; } = TopologyFile.Option();

    public Option<string?> Profile { get; } = new("--profile")
    {
        Description = "AWS profile from ~/.aws/config (SSO profiles too). Default: the SDK's chain (AWS_PROFILE, environment keys, default profile, instance role).",
        HelpName = "NAME",
    };

    public Option<string?> EndpointUrl { get; } = new("--endpoint-url")
    {
        Description = "Send every EC2 and SSM call to this endpoint (an emulator), signed for each topology region.",
        HelpName = "URL",
    };

    public Option<OutputFormat> Output { get; } = OutputFormatOption.Create(OutputFormat.Text);

    public Option<string?> SshPublicKey { get; } = new("--ssh-public-key")
    {
        Description = "Import this OpenSSH public key (a file of at most 16 KiB) as the stack's key pair in every region (deleted with the stack). Without it, a key pair the stack has is kept as it is.",
        HelpName = "FILE",
    };

    /// <summary>The SSH options of the verbs that run commands on the hosts (status --check, verify).</summary>
    public static (Option<string?> PrivateKey, Option<string> KnownHosts) AddRemoteAccessOptions(Command command)
    {
        var privateKey = new Option<string?>("--ssh-private-key")
        {
            Description = "The private key for SSH (the pair of the --ssh-public-key given to apply); not needed for hosts reached through SSM.",
            HelpName = "FILE",
        };
        var knownHosts = new Option<string>("--known-hosts")
        {
            Description = "Where host keys trusted on first use are remembered (used only when the console output has no fingerprints).",
            DefaultValueFactory = _ => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "egress", "known_hosts"),
            HelpName = "FILE",
        };
        command.Options.Add(privateKey);
        command.Options.Add(knownHosts);
        return (privateKey, knownHosts);
    }

    /// <summary>The SSH files of <see cref="AddRemoteAccessOptions"/>, checked before any AWS call: the private key must
    /// be a readable file of at most 64 KiB, the known-hosts file (when it exists) at most 1 MiB and its directory
    /// writable. SSH.NET and the host-key store read them later; this bounds what they can be handed.</summary>
    public static RemoteAccess RemoteAccessFrom(CliContext context, ParseResult parse, Option<string?> privateKey, Option<string> knownHosts)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(parse);
        string? keyPath = null;
        if (parse.GetValue(privateKey) is { } key)
        {
            keyPath = context.Resolve(key);
            _ = FileArguments.ReadText(context, "--ssh-private-key", key, BoundedFile.SshPrivateKeyBytes,
                $"pass the private key file (at most {BoundedFile.Size(BoundedFile.SshPrivateKeyBytes)}) whose public half apply imported, e.g. ~/.ssh/id_ed25519");
        }

        var known = parse.GetValue(knownHosts)!;
        var knownPath = context.Resolve(known);
        const string knownFix = "pass --known-hosts FILE, a known_hosts file egress may read and append to";
        if (System.IO.File.Exists(knownPath) || Directory.Exists(knownPath))
        {
            _ = FileArguments.ReadText(context, "--known-hosts", known, BoundedFile.KnownHostsBytes, knownFix + $" (at most {BoundedFile.Size(BoundedFile.KnownHostsBytes)})");
        }
        else if (Path.GetDirectoryName(knownPath) is { } directory && System.IO.File.Exists(directory))
        {
            throw new UsageException($"--known-hosts {known}: {directory} is a file, not a directory. Fix: {knownFix}.");
        }

        return new RemoteAccess { PrivateKeyFile = keyPath, KnownHostsFile = knownPath };
    }

    public bool Json(ParseResult parse) => parse.GetValue(Output) == OutputFormat.Json;

    public TopologyModel Topology(ParseResult parse) => TopologyFile.Load(_context, parse.GetValue(File)!);

    public DesiredState Desired(ParseResult parse, TopologyModel topology)
    {
        string? key = null;
        if (parse.GetValue(SshPublicKey) is { } keyFile)
        {
            key = FileArguments.ReadText(_context, "--ssh-public-key", keyFile, BoundedFile.SshPublicKeyBytes,
                $"pass your OpenSSH public key file (at most {BoundedFile.Size(BoundedFile.SshPublicKeyBytes)}), e.g. ~/.ssh/id_ed25519.pub").Trim();

            if (!key.StartsWith("ssh-", StringComparison.Ordinal) && !key.StartsWith("ecdsa-", StringComparison.Ordinal))
            {
                throw new UsageException($"--ssh-public-key {keyFile}: not an OpenSSH public key (it should start with ssh-ed25519, ssh-rsa or ecdsa-). Pass the .pub file, never the private key.");
            }
        }

        return DesiredStateBuilder.Build(topology, _context.UserData, new ProvisionOptions { SshPublicKey = key });
    }

    /// <summary>Runs a verb body with the provisioner and the (counted) ports, prints provisioning errors with their fix (exit 1, or 2 for bad input)
    /// and the number of AWS calls made.</summary>
    public async Task<int> RunAsync(ParseResult parse, Func<AwsProvisioner, CallCounter, Task<int>> body)
    {
        var connection = new AwsConnection { Profile = parse.GetValue(Profile), EndpointUrl = ParseEndpoint(parse.GetValue(EndpointUrl)) };
        var ports = _context.AwsPorts(connection);
        var counter = new CallCounter(ports);
        try
        {
            var provisioner = new AwsProvisioner(counter, _context.Time, new SpectreApplyProgress(_context.Human));
            var code = await body(provisioner, counter);
            _context.Error.WriteLine($"AWS calls: {counter}.");
            return code;
        }
        catch (AwsProvisionException ex)
        {
            _context.Error.WriteLine($"error: {ex.Action} in {ex.Region} failed: {ex.Problem}.");
            _context.Error.WriteLine($"  fix: {ex.Fix}.");
            _context.Error.WriteLine($"AWS calls: {counter}.");
            return ex.IsBadInput ? ExitCodes.BadInput : ExitCodes.CheckFailed;
        }
        finally
        {
            (ports as IDisposable)?.Dispose();
        }
    }

    /// <summary>Asks on the terminal before a change (apply, destroy): true to go on. --yes skips the question; with no
    /// terminal and no --yes it is a usage error (exit 2) and nothing is changed.</summary>
    public async Task<bool> ConfirmAsync(ParseResult parse, string verb, string question, CancellationToken cancellationToken)
    {
        if (parse.GetValue(Yes))
        {
            return true;
        }

        if (_context.Input is null)
        {
            throw new UsageException($"{verb} asks for confirmation and stdin is not a terminal; nothing was changed. Pass --yes to {verb} without asking.");
        }

        _context.Error.Write($"{question} Type 'yes' to confirm: ");
        if (string.Equals((await _context.Input.ReadLineAsync(cancellationToken))?.Trim(), "yes", StringComparison.Ordinal))
        {
            return true;
        }

        _context.Error.WriteLine($"{char.ToUpperInvariant(verb[0])}{verb[1..]} cancelled; nothing was changed.");
        return false;
    }

    /// <summary>Runs <paramref name="body"/> holding the stack's lock; a second apply or destroy of the stack is refused with the holder named.</summary>
    public async Task<int> LockedAsync(ParseResult parse, AwsProvisioner provisioner, TopologyModel topology, string verb, Func<Task<int>> body, CancellationToken cancellationToken)
    {
        await using var stackLock = await provisioner.LockAsync(topology, verb, parse.GetValue(ForceUnlock), cancellationToken);
        _context.Error.WriteLine($"Locked stack {topology.Stack} (SSM parameter {stackLock.Name} in {stackLock.Region}) until this run ends.");
        return await body();
    }

    /// <summary>Which regions were searched for the stack, and where it was found outside the topology.</summary>
    public void WriteSweep(RegionSweep? sweep)
    {
        if (sweep is not null)
        {
            _context.Error.WriteLine($"Regions: {sweep}.");
        }
    }

    public void WriteJson<T>(T document, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) => _context.Output.WriteLine(JsonSerializer.Serialize(document, type));

    private static Uri? ParseEndpoint(string? text)
    {
        if (text is null)
        {
            return null;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new UsageException($"--endpoint-url '{text}' is not an http(s) URL; write it like http://127.0.0.1:4566.");
        }

        return uri;
    }
}

/// <summary>Apply's progress on stderr: one line per finished step, retries and waits as they happen.</summary>
internal sealed class SpectreApplyProgress(IAnsiConsole console) : IApplyProgress
{
    private readonly object _gate = new();

    public void Finished(PlanStep step, bool deleting, string? id, TimeSpan elapsed)
    {
        var (color, verb) = deleting ? ("red", "destroyed") : step.Action switch
        {
            PlanAction.Update => ("yellow", "updated"),
            _ => ("green", "created"),
        };
        lock (_gate)
        {
            console.MarkupLine($"[{color}]{verb,-9}[/] {Markup.Escape(step.Resource.ToString())} [grey]{Markup.Escape(id ?? string.Empty)} ({elapsed.TotalSeconds:0.0} s)[/]");
        }
    }

    public void Note(string region, string message)
    {
        lock (_gate)
        {
            console.MarkupLine($"[grey]{Markup.Escape(region)}: {Markup.Escape(message)}[/]");
        }
    }
}
