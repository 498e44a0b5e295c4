namespace MailgunFunctions.Inbound;

/// <summary>
/// What an inbound reply may do to a contact's DND state. Implemented over the DND store (same policy code as the
/// events pipeline). Calls are repeated when a queue message is retried: implementations must be idempotent for
/// the same <c>sourceId</c> (the reply id).
/// </summary>
public interface IReplyDndActions
{
    /// <summary>A delivery status notification that arrived as a reply reports a permanent failure (Action: failed, Status 5.x.x) for <paramref name="address"/>.</summary>
    Task ApplyHardBounceFromDsnAsync(string tenant, string address, string status, string diagnostic, string sourceId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>A human reply asks to be unsubscribed; <paramref name="quotedLine"/> is the line that said so, for the history record.</summary>
    Task ApplyUnsubscribeFromReplyAsync(string tenant, string address, string quotedLine, string sourceId, DateTimeOffset at, CancellationToken cancellationToken);
}
