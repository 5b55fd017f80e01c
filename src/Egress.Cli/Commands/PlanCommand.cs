using System.CommandLine;
using Egress.Aws.Planning;

namespace Egress.Cli.Commands;

/// <summary>egress plan: what apply would change in AWS, like Terraform's plan. Only reads.</summary>
internal sealed class PlanCommand : Command
{
    public PlanCommand(CliContext context)
        : base("plan", "Show what 'apply' would create, change and destroy in AWS to match the topology. Makes only read calls.")
    {
        var aws = new AwsVerb(context, this, desiredState: true);
        SetAction((parse, cancellationToken) =>
        {
            var topology = aws.Topology(parse);
            var desired = aws.Desired(parse, topology); // a bad --ssh-public-key is exit 2 before any AWS call
            return aws.RunAsync(parse, async (provisioner, _) =>
            {
                var plan = await provisioner.PlanAsync(desired, cancellationToken);
                aws.WriteSweep(plan.Sweep);
                if (aws.Json(parse))
                {
                    aws.WriteJson(PlanRenderer.ToData(plan, versioned: true), AwsJson.Egress.PlanDocument);
                }
                else
                {
                    context.Output.Write(CliText.Wrap(PlanRenderer.Render(plan), context.Width));
                }

                return ExitCodes.Ok;
            });
        });
    }
}
