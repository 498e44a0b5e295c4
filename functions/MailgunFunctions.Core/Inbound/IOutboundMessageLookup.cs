namespace MailgunFunctions.Inbound;

/// <summary>An email we sent, as recorded by the events pipeline.</summary>
/// <param name="MessageId">Mailgun's message id, without angle brackets (as in <c>message.headers.message-id</c>).</param>
/// <param name="ContactId">The contact the message was sent to (its <c>user-variables</c>), when known.</param>
/// <param name="Recipient">The address this copy was sent to (normalised). A batch send gives all its recipients one message id.</param>
public sealed record OutboundMessage(string MessageId, string? ContactId, string Recipient, DateTimeOffset SentAt);

/// <summary>Finds the outbound message a reply answers. Implemented over the events pipeline's record of sent messages.</summary>
public interface IOutboundMessageLookup
{
    /// <summary>
    /// The copy of <paramref name="messageId"/> (without angle brackets) sent to <paramref name="recipient"/>; null when the
    /// tenant never sent that message to that address (or it is no longer recorded).
    /// </summary>
    Task<OutboundMessage?> FindAsync(string tenant, string messageId, string recipient, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="max"/> recorded recipients of <paramref name="messageId"/>, in no particular order.</summary>
    Task<IReadOnlyList<OutboundMessage>> FindRecipientsAsync(string tenant, string messageId, int max, CancellationToken cancellationToken);
}
