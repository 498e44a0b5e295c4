using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.ChangeFeed;

/// <summary>What one run of the retry queue function did with its message.</summary>
public enum DeliveryOutcome
{
    /// <summary>The platform took it (2xx).</summary>
    Delivered,
    /// <summary>Failed again (or the endpoint is known to be failing): back on the queue, hidden until the next attempt.</summary>
    Rescheduled,
    /// <summary>Not due yet (the queue showed it early): back on the queue until due.</summary>
    NotDue,
    /// <summary>Retried for <see cref="NotificationOptions.RetryFor"/>: parked in the dead-letter table.</summary>
    DeadLettered,
    /// <summary>The tenant has no platform URL any more: nothing to post.</summary>
    Dropped,
}

/// <summary>
/// The whole job of the <c>DeliverDndNotification</c> queue function (<c>dnd-notifications</c>): post a waiting notice;
/// on failure put it back hidden for the next back-off step (FirstRetryDelay doubling up to MaxRetryDelay), and after
/// <see cref="NotificationOptions.RetryFor"/> park it in the dead-letter table. A message is always replaced by its next
/// step before the function returns (the host then deletes it); if that write fails, the function throws and the host
/// shows the message again, so nothing is lost.
/// </summary>
public sealed class NotificationDelivery(NotificationSender sender, NotificationTargets targets, NotificationRetryQueue retries, NotificationDeadLetters deadLetters,
    EndpointBreaker breaker, IOptions<NotificationOptions> options, TimeProvider time, ILogger<NotificationDelivery> logger)
{
    private readonly NotificationOptions _options = options.Value;

    public async Task<DeliveryOutcome> DeliverAsync(string messageText, CancellationToken cancellationToken)
    {
        // Our own format: a message that does not parse is a bug or damage; the throw sends it to dnd-notifications-poison after the host's retries.
        var attempt = NotificationAttempt.FromJson(messageText);
        var notice = attempt.Notice;
        var now = time.GetUtcNow();
        if (attempt.DueAt > now)
        {
            await retries.ScheduleAsync(attempt, cancellationToken).ConfigureAwait(false);
            return DeliveryOutcome.NotDue;
        }

        var target = await targets.FindAsync(notice.Tenant, cancellationToken).ConfigureAwait(false);
        if (target is null)
        {
            ChangeFeedLog.TargetGone(logger, notice.Tenant, notice.AddressHash, notice.Version);
            return DeliveryOutcome.Dropped;
        }

        PostResult result;
        int tried = attempt.Attempt;
        DateTimeOffset dueAt;
        if (breaker.WaitUntil(target.Tenant, now) is { } waitUntil)
        {
            // Another notice of this tenant found the endpoint failing: wait with it rather than try (and time out) again;
            // spread over a little time, so the waiting notices do not all probe at the same instant.
            result = new PostResult(false, true, attempt.LastError ?? "endpoint failing");
            dueAt = waitUntil + (_options.FirstRetryDelay * Random.Shared.NextDouble());
        }
        else
        {
            tried++;
            result = await sender.PostAsync(target, notice.ToJson(), notice.Id, cancellationToken).ConfigureAwait(false);
            if (result.Delivered)
            {
                breaker.Succeeded(target.Tenant);
                ChangeFeedLog.Delivered(logger, notice.Tenant, notice.AddressHash, notice.Version, target.Url.Host, tried);
                return DeliveryOutcome.Delivered;
            }

            now = time.GetUtcNow();
            dueAt = now + Backoff.Delay(tried, _options);
            if (result.EndpointFailing && breaker.Failed(target.Tenant, now) is var retryAt && retryAt > dueAt)
            {
                dueAt = retryAt;
            }
        }

        if (now - attempt.FirstAttemptAt >= _options.RetryFor)
        {
            await deadLetters.ParkAsync(attempt with { Attempt = tried }, result.Error, cancellationToken).ConfigureAwait(false);
            ChangeFeedLog.DeadLettered(logger, notice.Tenant, notice.AddressHash, notice.Version, target.Url.Host, now - attempt.FirstAttemptAt, tried, result.Error);
            return DeliveryOutcome.DeadLettered;
        }

        // The last attempt lands at the end of the retry window, not after it.
        var last = attempt.FirstAttemptAt + _options.RetryFor;
        if (dueAt > last)
        {
            dueAt = last;
        }

        await retries.ScheduleAsync(attempt with { Attempt = tried, DueAt = dueAt, LastError = result.Error }, cancellationToken).ConfigureAwait(false);
        ChangeFeedLog.DeliveryFailed(logger, notice.Tenant, notice.AddressHash, notice.Version, target.Url.Host, result.Error, tried, dueAt);
        return DeliveryOutcome.Rescheduled;
    }
}
