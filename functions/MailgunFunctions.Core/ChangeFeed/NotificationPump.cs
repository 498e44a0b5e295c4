using MailgunFunctions.Dnd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.ChangeFeed;

/// <summary>
/// The first POST of a fresh change, made in the background of the instance that recorded it, so processing never waits
/// for the platform: <see cref="TryPost"/> takes the notice or refuses at once. It refuses when the tenant's endpoint is
/// failing (<see cref="EndpointBreaker"/>) or when <see cref="NotificationOptions.MaxWaitingPosts"/> are waiting already;
/// the caller then hands the notice to the retry queue. At most <see cref="NotificationOptions.MaxConcurrentPosts"/> POSTs
/// run at once, each bounded by <see cref="NotificationOptions.Timeout"/>, and the notices of one address are posted one
/// after the other in version order. A failed POST goes to the retry queue; either way the change's outbox row is
/// confirmed only after that, so a stop in between leaves it for the sweeper.
/// </summary>
public sealed class NotificationPump : IDisposable
{
    private readonly NotificationSender _sender;
    private readonly NotificationRetryQueue _retries;
    private readonly EndpointBreaker _breaker;
    private readonly PendingConfirmations _confirmations;
    private readonly NotificationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<NotificationPump> _logger;
    private readonly SemaphoreSlim _slots;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Task> _tails = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private int _waiting;

    public NotificationPump(NotificationSender sender, NotificationRetryQueue retries, EndpointBreaker breaker, PendingConfirmations confirmations,
        IOptions<NotificationOptions> options, TimeProvider time, ILogger<NotificationPump> logger)
    {
        _sender = sender;
        _retries = retries;
        _breaker = breaker;
        _confirmations = confirmations;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _slots = new SemaphoreSlim(_options.MaxConcurrentPosts);
    }

    /// <summary>Notices taken and not yet finished (posted and confirmed, or handed to the retry queue).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Takes the notice for a POST in the background, or returns false at once (the caller queues it for a retry).</summary>
    public bool TryPost(NotificationTarget target, DndNotice notice, string noticeJson)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(notice);
        if (_stopping.IsCancellationRequested || _breaker.WaitUntil(target.Tenant, _time.GetUtcNow()) is not null)
        {
            return false;
        }

        if (Interlocked.Increment(ref _waiting) > _options.MaxWaitingPosts)
        {
            Interlocked.Decrement(ref _waiting);
            return false;
        }

        string key = notice.Tenant + "|" + notice.AddressHash;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task previous;
        lock (_gate)
        {
            previous = _tails.GetValueOrDefault(key) ?? Task.CompletedTask;
            _tails[key] = done.Task;
        }

        _ = Task.Run(() => PostAfterAsync(previous, key, done, target, notice, noticeJson));
        return true;
    }

    private async Task PostAfterAsync(Task previous, string key, TaskCompletionSource done, NotificationTarget target, DndNotice notice, string json)
    {
        try
        {
            // One address's notices go out in version order (never faster than the one before).
            await previous.ConfigureAwait(false);
            await _slots.WaitAsync(_stopping.Token).ConfigureAwait(false);
            try
            {
                await PostAsync(target, notice, json).ConfigureAwait(false);
            }
            finally
            {
                _slots.Release();
            }

            // Outside the POST slot: confirmations are deleted in groups (PendingConfirmations), and a slot held while one
            // waits for its group would cap the notices per second at MaxConcurrentPosts per group delete, whatever the
            // platform's speed (the cap the change-feed benchmark found).
            await _confirmations.ConfirmAsync(DndKeys.TenantKey(notice.Tenant), DndChangeLog.PendingRowKey(notice.AddressHash, notice.Version)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: the outbox row stays and the sweeper sends the notice.
        }
        catch (Exception ex)
        {
            ChangeFeedLog.DispatchFailed(_logger, ex, notice.Tenant, notice.AddressHash, notice.Version, ex.Message.Split('\n', 2)[0]);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
            lock (_gate)
            {
                if (_tails.TryGetValue(key, out var tail) && tail == done.Task)
                {
                    _tails.Remove(key);
                }
            }

            done.TrySetResult();
        }
    }

    private async Task PostAsync(NotificationTarget target, DndNotice notice, string json)
    {
        var now = _time.GetUtcNow();
        var result = _breaker.WaitUntil(target.Tenant, now) is { } waitUntil
            ? new PostResult(false, true, $"endpoint failing: waiting until {waitUntil:u}")
            : await _sender.PostAsync(target, json, notice.Id, _stopping.Token).ConfigureAwait(false);
        if (result.Delivered)
        {
            _breaker.Succeeded(target.Tenant);
            ChangeFeedLog.Delivered(_logger, notice.Tenant, notice.AddressHash, notice.Version, target.Url.Host, 1);
        }
        else
        {
            now = _time.GetUtcNow();
            var dueAt = result.EndpointFailing ? _breaker.Failed(target.Tenant, now) : now + Backoff.Delay(1, _options);
            ChangeFeedLog.DeliveryFailed(_logger, notice.Tenant, notice.AddressHash, notice.Version, target.Url.Host, result.Error, 1, dueAt);
            await _retries.ScheduleAsync(new NotificationAttempt { Attempt = 1, FirstAttemptAt = now, DueAt = dueAt, LastError = result.Error, Notice = notice }, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the POSTs in flight (each bounded by the timeout), then stops taking any.</summary>
    public async Task DrainAsync(TimeSpan limit)
    {
        Task[] tails;
        lock (_gate)
        {
            tails = _tails.Values.ToArray();
        }

        await Task.WhenAny(Task.WhenAll(tails), Task.Delay(limit)).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops: waits up to the POST timeout plus a little for what is in flight (a CLI run's change reaches the platform
    /// before the process ends), then cancels the rest, whose outbox rows stay for the sweeper.
    /// </summary>
    public void Dispose()
    {
        DrainAsync(_options.Timeout + TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
        // Neither the token source nor the semaphore is disposed: cancelled POSTs still run their finally blocks.
        _stopping.Cancel();
    }
}
