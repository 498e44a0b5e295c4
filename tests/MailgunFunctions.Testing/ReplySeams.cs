using System.Collections.Concurrent;
using MailgunFunctions.Inbound;

namespace MailgunFunctions.Testing;

/// <summary>Records what inbound processing asked the DND pipeline to do (the real implementation lives over the DND store).</summary>
public sealed class RecordingReplyDndActions : IReplyDndActions
{
    public ConcurrentQueue<(string Tenant, string Address, string Status, string Diagnostic, string SourceId, DateTimeOffset At)> HardBounces { get; } = new();

    public ConcurrentQueue<(string Tenant, string Address, string QuotedLine, string SourceId, DateTimeOffset At)> Unsubscribes { get; } = new();

    public Task ApplyHardBounceFromDsnAsync(string tenant, string address, string status, string diagnostic, string sourceId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        HardBounces.Enqueue((tenant, address, status, diagnostic, sourceId, at));
        return Task.CompletedTask;
    }

    public Task ApplyUnsubscribeFromReplyAsync(string tenant, string address, string quotedLine, string sourceId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        Unsubscribes.Enqueue((tenant, address, quotedLine, sourceId, at));
        return Task.CompletedTask;
    }
}

/// <summary>Outbound messages a test says were sent (the real lookup reads the events pipeline's record).</summary>
public sealed class KnownOutboundMessages : IOutboundMessageLookup
{
    private readonly ConcurrentDictionary<(string Tenant, string MessageId, string Recipient), OutboundMessage> _sent = new();

    public void Add(string tenant, OutboundMessage message) => _sent[(tenant, message.MessageId, message.Recipient.ToLowerInvariant())] = message;

    public Task<OutboundMessage?> FindAsync(string tenant, string messageId, string recipient, CancellationToken cancellationToken) =>
        Task.FromResult(_sent.TryGetValue((tenant, messageId, recipient.ToLowerInvariant()), out var message) ? message : null);

    public Task<IReadOnlyList<OutboundMessage>> FindRecipientsAsync(string tenant, string messageId, int max, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<OutboundMessage>>(_sent.Where(s => s.Key.Tenant == tenant && s.Key.MessageId == messageId).Select(s => s.Value).Take(max).ToList());
}
