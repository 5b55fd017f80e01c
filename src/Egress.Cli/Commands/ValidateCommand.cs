using System.CommandLine;
using System.Text.Json;
using Egress.Core.Topology;

namespace Egress.Cli.Commands;

/// <summary>egress validate: every error in the topology at once; exit 0 valid, 2 invalid.</summary>
internal sealed class ValidateCommand : Command
{
    public ValidateCommand(CliContext context)
        : base("validate", "Check a topology file and list every problem with its line, path and fix. Exit 0 when valid, 2 otherwise.")
    {
        var source = TopologySource.AddTo(this);
        var output = OutputFormatOption.Create(OutputFormat.Text);
        Options.Add(output);

        SetAction(parse =>
        {
            StartupTrace.Mark("validate action");
            var (result, path) = source.Read(context, parse);
            StartupTrace.Mark("topology loaded");
            // The verdict is validate's output (stdout); with -o json stdout holds only the document, so it goes to stderr.
            var json = parse.GetValue(output) == OutputFormat.Json;
            var verdict = json ? context.Error : context.Output;
            if (json)
            {
                WriteJson(context, result, path);
            }
            else
            {
                TopologyFile.Print(context, result.Diagnostics);
            }

            if (!result.Succeeded)
            {
                var count = result.Errors.Count();
                verdict.WriteLine($"{path}: {count} error{(count == 1 ? string.Empty : "s")}.");
                return ExitCodes.BadInput;
            }

            var topology = result.Topology!;
            verdict.WriteLine(
                $"{path}: valid. Stack '{topology.Stack}': {topology.Regions.Count} regions, {topology.Hosts.Count()} hosts, " +
                $"{TunnelPairs.Of(topology).Count} tunnels ({topology.Overlay.Mode.ToString().ToLowerInvariant()}, MTU {topology.Overlay.TunnelMtu}).");
            return ExitCodes.Ok;
        });
    }

    /// <summary>Its own method so that text output (the common case) never loads System.Text.Json (start-up,
    /// bench/startup.sh).</summary>
    private static void WriteJson(CliContext context, TopologyLoadResult result, string path) =>
        context.Output.WriteLine(JsonSerializer.Serialize(
            new ValidateDocument(path, result.Succeeded, result.Diagnostics
                .Select(d => new ValidateDiagnostic(d.IsError ? "error" : "warning", d.Line, d.Column, d.Path, d.Message, d.Hint)).ToList()),
            CliJson.Egress.ValidateDocument));
}
