using System.Security.Cryptography;
using System.Text;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Events;
using MailgunFunctions.Queueing;
using MailgunFunctions.Rates;
using MailgunFunctions.Storage;
using MailgunFunctions.Telemetry;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Processing;

/// <summary>What happened to one queue message.</summary>
public enum EventOutcome
{
    /// <summary>Classified and applied to the DND entry (or counted as a sender-side issue).</summary>
    Processed,
    /// <summary>An event with nothing to record (accepted, stored...).</summary>
    Skipped,
    /// <summary>Can never be processed: sent to the poison queue with the reason; the original is done.</summary>
    Poisoned,
    /// <summary>Its tenant lives on another storage shard now (moved): put on that shard's events queue, processed there.</summary>
    Forwarded,
}

public sealed record EventProcessingResult(EventOutcome Outcome, string? PoisonReason = null, string? Tenant = null, string? Address = null,
    Classification.Classification? Classification = null, DndApplyResult? Dnd = null, SenderIssueCount? SenderIssue = null)
{
    /// <summary>For a replayed event poisoned by an earlier replay: where that replay read it (no second poison message was sent).</summary>
    public string? PoisonedEarlier { get; init; }
}

/// <summary>
/// The whole job of the queue function, without the Functions host: open the envelope (claim check included),
/// parse the event, classify it, apply it to the DND entry of (tenant, recipient), count sender-side
/// failures. A message that can never be processed goes to the poison queue at once with its reason and the call
/// returns normally (so the host deletes it); storage errors throw, so the host retries and, after
/// maxDequeueCount attempts, moves the message to poison itself.
/// </summary>
public sealed class EventProcessor
{
    private readonly EventQueue _queue;
    private readonly IEventClassifier _classifier;
    private readonly DndStore _store;
    private readonly SenderIssueCounter _senderIssues;
    private readonly EventPoisonQueue _poison;
    private readonly SentMessageLog _sentMessages;
    private readonly MailgunAllowlists _allowlists;
    private readonly TenantDirectory _tenants;
    private readonly DndOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EventProcessor> _logger;
    private readonly MailgunMetrics _metrics;
    private readonly TenantDailyRates _rates;
    private readonly DndChangeSweeper? _changes;
    private readonly TenantShards? _shards;
    private readonly StorageShard _shard;

    public EventProcessor(EventQueue queue, IEventClassifier classifier, DndStore store, SenderIssueCounter senderIssues, EventPoisonQueue poison,
        SentMessageLog sentMessages, MailgunAllowlists allowlists, TenantDirectory tenants, IOptions<DndOptions> options, TimeProvider time, ILogger<EventProcessor> logger,
        MailgunMetrics metrics, TenantDailyRates rates, DndChangeSweeper? changes = null, TenantShards? shards = null, StorageShard? shard = null)
    {
        _shards = shards;
        _shard = shard ?? new StorageShard(0);
        _metrics = metrics;
        _rates = rates;
        _changes = changes;
        _queue = queue;
        _classifier = classifier;
        _store = store;
        _senderIssues = senderIssues;
        _poison = poison;
        _sentMessages = sentMessages;
        _allowlists = allowlists;
        _tenants = tenants;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <param name="messageText">The message as the queue trigger hands it over (already base64-decoded by the host).</param>
    /// <param name="dequeueCount">The host's delivery count of the message (1 on the first attempt).</param>
    public Task<EventProcessingResult> ProcessAsync(string messageText, long dequeueCount, CancellationToken cancellationToken) =>
        ProcessAsync(messageText, dequeueCount, null, cancellationToken);

    /// <param name="messageText">The message as the queue trigger hands it over (already base64-decoded by the host).</param>
    /// <param name="dequeueCount">The host's delivery count of the message (1 on the first attempt).</param>
    /// <param name="replay">For an event an operator replays (not a queue message): where it came from; its poison message names
    /// that place and is sent once however often the event is replayed (<see cref="EventPoisonQueue.SendOnceAsync"/>).</param>
    /// <param name="cancellationToken">Stops the processing.</param>
    public async Task<EventProcessingResult> ProcessAsync(string messageText, long dequeueCount, ReplaySource? replay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageText);
        try
        {
            return await ProcessCoreAsync(messageText, dequeueCount, replay, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ProcessingLog.TransientFailure(_logger, ex, dequeueCount);
            throw;
        }
    }

    private async Task<EventProcessingResult> ProcessCoreAsync(string messageText, long dequeueCount, ReplaySource? replay, CancellationToken cancellationToken)
    {
        EventEnvelope envelope;
        try
        {
            envelope = await _queue.OpenAsync(messageText, cancellationToken).ConfigureAwait(false);
        }
        catch (EnvelopeFormatException ex)
        {
            return await PoisonAsync(messageText, replay, null, "envelope_invalid", ex.Message, dequeueCount, cancellationToken).ConfigureAwait(false);
        }

        if (replay is null && _shards is not null && await _shards.ElsewhereAsync(envelope.Tenant, _shard.Number, cancellationToken).ConfigureAwait(false) is { } elsewhere)
        {
            // A message queued on this shard before its tenant moved (docs/scaling.md): it belongs where the tenant's entries
            // are now. Sent there before this one is done, so a crash in between only sends it twice (processing is idempotent).
            await elsewhere.Services.GetRequiredService<EventQueue>().SendAsync(envelope, cancellationToken).ConfigureAwait(false);
            ProcessingLog.ForwardedToShard(_logger, envelope.Tenant ?? "", _shard.Number, elsewhere.Number);
            return new EventProcessingResult(EventOutcome.Forwarded, Tenant: envelope.Tenant);
        }

        MailgunEvent e;
        try
        {
            e = MailgunEventParser.Parse(envelope.EventData!);
        }
        catch (EventFormatException ex)
        {
            return await PoisonAsync(messageText, replay, envelope.Tenant, "event_invalid", ex.Reason, dequeueCount, cancellationToken).ConfigureAwait(false);
        }

        var classification = _classifier.Classify(e);
        var change = DndChange.FromEvent(e, classification, _options.ContactIdVariable);
        bool meaningful = change?.HasDndMeaning == true;
        string address = string.IsNullOrWhiteSpace(e.Recipient) ? "" : DndKeys.NormalizeAddress(e.Recipient);
        if (address.Length == 0)
        {
            // Opens, clicks and deliveries without a recipient carry nothing worth a poison message (a stream of them would flood it).
            if (!meaningful)
            {
                ProcessingLog.Skipped(_logger, e.EventType, e.Id);
                return new EventProcessingResult(EventOutcome.Skipped, Tenant: envelope.Tenant, Classification: classification);
            }

            return await PoisonAsync(messageText, replay, envelope.Tenant, "recipient_missing", $"{e.EventType} event {e.Id} names no recipient (nor a To header)", dequeueCount, cancellationToken).ConfigureAwait(false);
        }

        if (address.Length > DndKeys.MaxAddressLength)
        {
            return await PoisonAsync(messageText, replay, envelope.Tenant, "recipient_invalid", $"{e.EventType} event {e.Id} names a recipient of {address.Length} characters, longer than any address",
                dequeueCount, cancellationToken).ConfigureAwait(false);
        }

        var tenant = await TenantOfAsync(envelope, e, cancellationToken).ConfigureAwait(false);
        if (tenant is null)
        {
            if (!meaningful)
            {
                ProcessingLog.Skipped(_logger, e.EventType, e.Id);
                return new EventProcessingResult(EventOutcome.Skipped, Address: address, Classification: classification);
            }

            return await PoisonAsync(messageText, replay, null, "tenant_unknown",
                $"{e.EventType} event {e.Id} was queued without a tenant (before tenants existed) and its sending domain '{e.SendingDomain}' belongs to no tenant; replay it to the tenant's URL",
                dequeueCount, cancellationToken).ConfigureAwait(false);
        }

        SenderIssueCount? senderIssue = null;
        if (classification.Category == BounceCategory.SenderIssue)
        {
            senderIssue = await _senderIssues.RecordAsync(tenant, e, classification, cancellationToken).ConfigureAwait(false);
            if (senderIssue.Counted)
            {
                // Counted once per event, like the table's counters: a redelivery does not inflate the storm alert.
                _metrics.SenderIssue(tenant, classification.Rule);
            }
        }

        if (TenantDailyRates.KindOf(e, classification) is { } kind)
        {
            // Before the DND write: a failure after it brings the message back, and the event row keeps the count exact.
            await _rates.RecordAsync(tenant, e, kind, cancellationToken).ConfigureAwait(false);
        }

        if (SentMessageLog.Records(e))
        {
            await _sentMessages.RecordAsync(tenant, address, e, e.UserVariables.GetValueOrDefault(_options.ContactIdVariable), cancellationToken).ConfigureAwait(false);
        }

        if (change is null)
        {
            ProcessingLog.Skipped(_logger, e.EventType, e.Id);
            return new EventProcessingResult(EventOutcome.Skipped, Tenant: tenant, Address: address, Classification: classification, SenderIssue: senderIssue);
        }

        // Mailgun's allowlist keeps an address off its bounce list: a bounce of it is recorded, not applied.
        change = await _allowlists.ExemptAsync(tenant, address, change, cancellationToken).ConfigureAwait(false);
        var applied = await _store.ApplyAsync(tenant, address, change, cancellationToken).ConfigureAwait(false);
        if (applied.Outcome == DndApplyOutcome.Unchanged && dequeueCount > 1 && _changes is not null)
        {
            // A redelivery: an earlier attempt may have recorded the change and stopped before sending it. Its outbox rows say
            // so; sending them now (rather than when the sweeper comes by) keeps the platform minutes closer. Throws on a
            // storage failure, so the message comes back once more.
            await _changes.RedispatchAsync(tenant, address, cancellationToken).ConfigureAwait(false);
        }
        if (applied.Outcome == DndApplyOutcome.Applied && applied.Previous.State != applied.Current.State)
        {
            // Only a change of state: a redelivery (Unchanged) or a history-only write is not a DND change.
            _metrics.DndChanged(tenant, classification.Category.ToString(), applied.Current.State.ToString());
        }

        ProcessingLog.Processed(_logger, e.EventType, e.Id, tenant, classification.Category.ToString(), classification.Rule,
            $"{applied.Outcome} {applied.Previous.State}->{applied.Current.State}");
        return new EventProcessingResult(EventOutcome.Processed, Tenant: tenant, Address: address, Classification: classification, Dnd: applied, SenderIssue: senderIssue);
    }

    /// <summary>
    /// The tenant of the event: the one whose URL and key received it. An event from a domain the tenant has not registered
    /// is still that tenant's (it was signed with its key) and is applied, with a warning naming the domain. Envelopes queued
    /// before tenants existed name none: the tenant that registered the event's sending domain, else the single-account
    /// tenant, else null.
    /// </summary>
    private async Task<string?> TenantOfAsync(EventEnvelope envelope, MailgunEvent e, CancellationToken cancellationToken)
    {
        if (envelope.Tenant is { Length: > 0 } id)
        {
            if (e.SendingDomain is { Length: > 0 } domain && await _tenants.FindAsync(id, cancellationToken).ConfigureAwait(false) is { } known && !known.OwnsDomain(domain))
            {
                ProcessingLog.DomainNotRegistered(_logger, e.EventType, e.Id, id, domain);
            }

            return id;
        }

        // A sending domain longer than any domain names no tenant (and would not fit a table key).
        string? sendingDomain = e.SendingDomain is { Length: <= DndKeys.MaxDomainLength } d ? d : null;
        return (await _tenants.FindByDomainAsync(sendingDomain, cancellationToken).ConfigureAwait(false))?.Id ?? _tenants.Implicit?.Id;
    }

    private async Task<EventProcessingResult> PoisonAsync(string messageText, ReplaySource? replay, string? tenant, string reason, string detail, long dequeueCount, CancellationToken cancellationToken)
    {
        // A parser's message can quote the whole input (a 1 MB string value): the reason is enough, with the detail's start.
        detail = PoisonDetail.Cut(detail);
        // Sent before returning: if this send fails, the exception makes the host retry and the message is not lost.
        if (replay is not null)
        {
            var (sent, earlier) = await _poison.SendOnceAsync(messageText, reason, detail, _time.GetUtcNow(), replay, cancellationToken).ConfigureAwait(false);
            if (!sent)
            {
                return new EventProcessingResult(EventOutcome.Poisoned, PoisonReason: reason) { PoisonedEarlier = earlier ?? "an earlier replay" };
            }
        }
        else
        {
            await _poison.SendAsync(messageText, reason, detail, dequeueCount, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }

        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(messageText)))[..16];
        ProcessingLog.Poisoned(_logger, hash, reason, detail, dequeueCount);
        _metrics.EventPoisoned(tenant, reason);
        return new EventProcessingResult(EventOutcome.Poisoned, PoisonReason: reason);
    }
}
