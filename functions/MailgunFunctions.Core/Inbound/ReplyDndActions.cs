using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;

namespace MailgunFunctions.Inbound;

/// <summary>What replies do to DND, through the same store and policy as Mailgun's events.</summary>
public sealed class ReplyDndActions(DndStore store) : IReplyDndActions
{
    public Task ApplyHardBounceFromDsnAsync(string tenant, string address, string status, string diagnostic, string sourceId, DateTimeOffset at, CancellationToken cancellationToken) =>
        store.ApplyAsync(tenant, address, DndChange.FromReply(at, sourceId, BounceCategory.HardBounce, "reply-dsn-permanent",
            $"A delivery status notification sent back to us reports a permanent failure ({status}) for this address.", status, diagnostic), cancellationToken);

    public Task ApplyUnsubscribeFromReplyAsync(string tenant, string address, string quotedLine, string sourceId, DateTimeOffset at, CancellationToken cancellationToken) =>
        store.ApplyAsync(tenant, address, DndChange.FromReply(at, sourceId, BounceCategory.Unsubscribe, "reply-unsubscribe",
            "The contact asked to be unsubscribed in a reply: \"" + quotedLine + "\"", message: quotedLine), cancellationToken);
}
