using Azure.Storage.Queues;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.ChangeFeed;

/// <summary>
/// Sends recorded changes on their two ways: the notice onto the <c>dnd-changes</c> queue (for consumers in Azure), and,
/// for a tenant with a platform URL, to the <see cref="NotificationPump"/> (first POST in the background) or, when the
/// pump cannot take it now, onto the retry queue; our own unsubscribes also onto <c>mailgun-unsubscribes</c>
/// (<see cref="MailgunUnsubscribeSync"/>). Then it confirms the change's outbox row. Everything before the
/// confirmation can be repeated: a redelivered message or the sweeper dispatch what a stopped instance left, and
/// receivers drop the repeats by version.
/// </summary>
public sealed class DndChangeDispatcher : IDndChangeDispatch
{
    private readonly QueueClient _changes;
    private readonly CreateOnce _created;
    private readonly NotificationTargets _targets;
    private readonly NotificationPump _pump;
    private readonly NotificationRetryQueue _retries;
    private readonly PendingConfirmations _confirmations;
    private readonly MailgunUnsubscribeQueue _mailgunUnsubscribes;
    private readonly TimeProvider _time;
    private readonly ILogger<DndChangeDispatcher> _logger;

    public DndChangeDispatcher(HomeStorage home, NotificationTargets targets, NotificationPump pump, NotificationRetryQueue retries,
        PendingConfirmations confirmations, MailgunUnsubscribeQueue mailgunUnsubscribes, TimeProvider time, ILogger<DndChangeDispatcher> logger)
    {
        _changes = home.Queues.GetQueueClient(StorageNames.DndChangesQueue);
        _created = new CreateOnce(ct => _changes.CreateIfNotExistsAsync(cancellationToken: ct));
        _targets = targets;
        _pump = pump;
        _retries = retries;
        _confirmations = confirmations;
        _mailgunUnsubscribes = mailgunUnsubscribes;
        _time = time;
        _logger = logger;
    }

    /// <summary>Dispatches the notices in order. Throws when storage or the registry fails: the changes stay pending.</summary>
    public async Task DispatchAsync(IEnumerable<DndNotice> notices, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notices);
        foreach (var notice in notices.OrderBy(n => n.Version))
        {
            string json = notice.ToJson();
            // A queue message lives 7 days by default: consumers that stop for longer resync with changedSince.
            await _created.RunAsync(ct => _changes.SendMessageAsync(json, ct), cancellationToken).ConfigureAwait(false);
            // Our own unsubscribes go to Mailgun's list too, from here: before the outbox row is confirmed, so a crash
            // sends it again (the queue function is idempotent) and Mailgun being down never holds the DND back.
            await _mailgunUnsubscribes.EnqueueAsync(notice, cancellationToken).ConfigureAwait(false);
            var target = await _targets.FindAsync(notice.Tenant, cancellationToken).ConfigureAwait(false);
            if (target is not null && !_pump.TryPost(target, notice, json))
            {
                var now = _time.GetUtcNow();
                await _retries.ScheduleAsync(new NotificationAttempt { Attempt = 0, FirstAttemptAt = now, DueAt = now, Notice = notice }, cancellationToken).ConfigureAwait(false);
                target = null;
            }

            if (target is null)
            {
                // Taken by the pump: it confirms after its POST (or its hand-over to the retry queue).
                await _confirmations.ConfirmAsync(DndKeys.TenantKey(notice.Tenant), DndChangeLog.PendingRowKey(notice.AddressHash, notice.Version)).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// After a change was recorded: dispatch now if possible. A failure is logged, not thrown (the change is recorded and the
    /// caller's work is done); it stays pending for the redelivery or the sweeper. Cancellation is passed on.
    /// </summary>
    public async Task TryDispatchAsync(IReadOnlyList<DndNotice> notices, CancellationToken cancellationToken)
    {
        if (notices.Count == 0)
        {
            return;
        }

        try
        {
            await DispatchAsync(notices, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var first = notices[0];
            ChangeFeedLog.DispatchFailed(_logger, ex, first.Tenant, first.AddressHash, first.Version, ex.Message.Split('\n', 2)[0]);
        }
    }
}
