using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;

namespace MailgunFunctions.Inbound;

/// <summary>What replies do to DND, through the same store, policy and allowlist rule as Mailgun's events.</summary>
public sealed class ReplyDndActions(DndStore store, MailgunAllowlists allowlists) : IReplyDndActions
{
    public async Task ApplyHardBounceFromDsnAsync(string tenant, string address, string status, string diagnostic, string sourceId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var change = DndChange.FromReply(at, sourceId, BounceCategory.HardBounce, "reply-dsn-permanent",
            $"A delivery status notification sent back to us reports a permanent failure ({status}) for this address.", status, diagnostic);
        await store.ApplyAsync(tenant, address, await allowlists.ExemptAsync(tenant, address, change, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    public Task ApplyUnsubscribeFromReplyAsync(string tenant, string address, string quotedLine, string sourceId, DateTimeOffset at, CancellationToken cancellationToken) =>
        store.ApplyAsync(tenant, address, DndChange.FromReply(at, sourceId, BounceCategory.Unsubscribe, "reply-unsubscribe",
            "The contact asked to be unsubscribed in a reply: \"" + quotedLine + "\"", message: quotedLine), cancellationToken);
}
