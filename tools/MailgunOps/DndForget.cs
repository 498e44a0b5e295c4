using System.CommandLine;
using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Erasure;

namespace MailgunOps;

/// <summary><c>dnd forget</c>: erasure on request, by <see cref="DndErasure"/> (the design is documented there and in docs/cli.md, "GDPR erasure design").</summary>
public static class DndForget
{
    public static Command Build(OpsRuntime runtime)
    {
        var address = new Argument<string>("address") { Description = "The contact's email address." };
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false);
        var note = new Option<string>("--note") { Description = "The erasure request's reference (recorded, without the address).", Required = true };
        var command = new Command("forget", "Erase the personal data held for an address (GDPR), keeping only a one-way hash that keeps it suppressed.") { address, tenant, domain, note };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            string why = parse.GetValue(note)!;
            if (string.IsNullOrWhiteSpace(why))
            {
                throw new OpsException(ExitCodes.Usage, "--note must name the erasure request");
            }

            string d = (await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false)).Id;
            var result = await (await ctx.ForTenantChangeAsync(d, token).ConfigureAwait(false)).Get<DndErasure>().EraseAsync(d, parse.GetValue(address)!, why, token).ConfigureAwait(false)
                ?? throw new OpsException(ExitCodes.NotFound, $"nothing is held for that address in tenant '{d}'");
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new
                {
                    tenant = d,
                    erasureId = result.ErasureId,
                    erasedAt = result.ErasedAt,
                    suppressionKept = result.KeptState.ToProductName(),
                    historyRecords = result.HistoryRecords,
                    replies = result.Replies,
                    contactReplies = result.ContactReplies,
                    rawMessages = result.RawMessages,
                    sentMessages = result.SentMessages,
                    senderIssueRows = result.SenderIssueRows,
                });
            }
            else
            {
                ctx.Output.Text($"erased in {d} (erasure {result.ErasureId}): {result.HistoryRecords} history records, {result.Replies + result.ContactReplies} reply rows, " +
                    $"{result.RawMessages} raw messages, {result.SentMessages} sent-message rows, {result.SenderIssueRows} sender-issue rows stripped");
                ctx.Output.Text($"kept: a hashed suppression in state {result.KeptState.ToProductName()} (the address stays suppressed if it comes back)");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
