using System.CommandLine;
using Egress.Core.Topology;

namespace Egress.Cli.Commands;

/// <summary>egress init: writes an example topology (the seed by default) to a file.</summary>
internal sealed class InitCommand : Command
{
    public InitCommand(CliContext context)
        : base("init", "Write an example topology file: the seed (Singapore client via a Tokyo gateway) or three-region.")
    {
        var file = TopologyFile.Option();
        file.Description = $"Where to write the topology (default: ./{TopologyLoader.DefaultFileName}); '-' writes to stdout.";
        var example = new Option<string>("--example", "-e")
        {
            Description = "Which example to write.",
            DefaultValueFactory = _ => Examples.Seed,
            HelpName = string.Join('|', Examples.Names),
        };
        example.AcceptOnlyFromAmong([.. Examples.Names]);
        var force = new Option<bool>("--force") { Description = "Overwrite the file if it exists." };
        Options.Add(file);
        Options.Add(example);
        Options.Add(force);

        SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var text = Examples.Text(parse.GetValue(example)!);
            if (path == "-")
            {
                context.Output.Write(text);
                return ExitCodes.Ok;
            }

            var full = context.Resolve(path);
            if (File.Exists(full) && !parse.GetValue(force))
            {
                throw new UsageException($"{path} already exists; pass --force to overwrite it, or -f to write elsewhere.");
            }

            // Whole or not at all: a full disk or a killed run never leaves half a topology behind.
            FileArguments.WriteText(context, string.Empty, path, text);

            context.Error.WriteLine($"Wrote {path} ({parse.GetValue(example)} topology). Next: 'egress validate -f {path}', 'egress show -f {path}'.");
            return ExitCodes.Ok;
        });
    }
}
