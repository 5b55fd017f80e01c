using Egress.Cli;

return await EgressCli.RunAsync(args, CliContext.FromProcess());
