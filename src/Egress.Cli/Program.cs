using Egress.Cli;

StartupTrace.Mark("main");
var context = CliContext.FromProcess();
StartupTrace.Mark("console probed");
var code = await EgressCli.RunAsync(args, context);
StartupTrace.End();
return code;
