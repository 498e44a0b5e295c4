namespace MailgunFunctions.Inbound;

/// <summary>An email we sent, as recorded by the events pipeline.</summary>
/// <param name="MessageId">Mailgun's message id, without angle brackets (as in <c>message.headers.message-id</c>).</param>
/// <param name="ContactId">The contact the message was sent to (its <c>user-variables</c>), when known.</param>
public sealed record OutboundMessage(string MessageId, string? ContactId, string Recipient, DateTimeOffset SentAt);

/// <summary>Finds the outbound message a reply answers. Implemented over the events pipeline's record of sent messages.</summary>
public interface IOutboundMessageLookup
{
    /// <summary><paramref name="messageId"/> comes without angle brackets; null when the tenant never sent it (or it is no longer recorded).</summary>
    Task<OutboundMessage?> FindAsync(string tenant, string messageId, CancellationToken cancellationToken);
}
