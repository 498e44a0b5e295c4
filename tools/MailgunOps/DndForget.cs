using System.CommandLine;

namespace MailgunOps;

public static class DndForget
{
    public static Command Build(OpsRuntime runtime)
    {
        var address = new Argument<string>("address") { Description = "The contact's email address." };
        var domain = OpsCommands.Domain(true);
        var note = new Option<string>("--note") { Description = "The erasure request's reference.", Required = true };
        var command = new Command("forget", "Erase the personal data held for an address (GDPR), keeping only a one-way hash that keeps it suppressed.") { address, domain, note };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, null, null, (ctx, token) => Task.FromResult(ExitCodes.Usage), ct));
        return command;
    }
}
