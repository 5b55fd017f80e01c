using System.CommandLine;
using Egress.Core.Topology;

namespace Egress.Cli.Commands;

/// <summary>egress show: the resolved topology, every default filled in, as YAML or JSON on stdout.</summary>
internal sealed class ShowCommand : Command
{
    public ShowCommand(CliContext context)
        : base("show", "Print the resolved topology with every default filled in and the derived tunnel addresses, MTU and MSS.")
    {
        var source = TopologySource.AddTo(this);
        var output = OutputFormatOption.Create(OutputFormat.Yaml);
        Options.Add(output);

        SetAction(parse =>
        {
            var (topology, _) = source.Load(context, parse);
            context.Output.Write(parse.GetValue(output) == OutputFormat.Json ? TopologyWriter.ToJson(topology) : TopologyWriter.ToYaml(topology));
            return ExitCodes.Ok;
        });
    }
}
