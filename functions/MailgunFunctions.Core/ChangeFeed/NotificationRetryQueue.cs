using Azure.Storage.Queues;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.ChangeFeed;

/// <summary>A notification waiting on the retry queue: the notice and where its retries stand.</summary>
public sealed record NotificationAttempt
{
    /// <summary>Failed attempts so far (0: not tried yet, e.g. handed over by an instance whose endpoint was failing).</summary>
    public required int Attempt { get; init; }

    /// <summary>When the first attempt was due: the retries stop <see cref="NotificationOptions.RetryFor"/> after it.</summary>
    public required DateTimeOffset FirstAttemptAt { get; init; }

    /// <summary>When this attempt is due (the message is hidden until then).</summary>
    public required DateTimeOffset DueAt { get; init; }

    public string? LastError { get; init; }

    public required DndNotice Notice { get; init; }

    public string ToJson()
    {
        var o = new JObject
        {
            ["attempt"] = Attempt,
            ["firstAttemptAt"] = FirstAttemptAt.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["dueAt"] = DueAt.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["lastError"] = LastError,
            ["notice"] = JObject.Parse(Notice.ToJson()),
        };
        return o.ToString(Formatting.None);
    }

    public static NotificationAttempt FromJson(string json)
    {
        var o = JsonConvert.DeserializeObject<JObject>(json, DndNotice.Json) ?? throw new JsonException("not a notification attempt");
        return new NotificationAttempt
        {
            Attempt = (int?)o["attempt"] ?? 0,
            FirstAttemptAt = o["firstAttemptAt"]?.ToObject<DateTimeOffset>() ?? throw new JsonException("firstAttemptAt missing"),
            DueAt = o["dueAt"]?.ToObject<DateTimeOffset>() ?? throw new JsonException("dueAt missing"),
            LastError = (string?)o["lastError"],
            Notice = DndNotice.FromJson(o["notice"]?.ToString(Formatting.None) ?? throw new JsonException("notice missing")),
        };
    }
}

/// <summary>
/// The <c>dnd-notifications</c> queue: POSTs that failed, or that an instance could not take on at once, wait here hidden
/// until due (the queue's visibility delay) and are tried by the <c>DeliverDndNotification</c> queue function. Ours only:
/// consumers read <c>dnd-changes</c>, so our retries never compete with them.
/// </summary>
public sealed class NotificationRetryQueue
{
    /// <summary>A queue message can stay hidden for at most 7 days; a message lives no longer either.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(7);

    private readonly QueueClient _queue;
    private readonly CreateOnce _created;
    private readonly TimeProvider _time;

    public NotificationRetryQueue(HomeStorage clients, TimeProvider time)
    {
        _queue = clients.Queues.GetQueueClient(StorageNames.NotificationsQueue);
        _created = new CreateOnce(ct => _queue.CreateIfNotExistsAsync(cancellationToken: ct));
        _time = time;
    }

    /// <summary>
    /// Whether a due time hides the message (the production behaviour). Tests that drive retries with a fake clock turn it
    /// off: the storage emulator's visibility runs on the wall clock; the processor still honours <see cref="NotificationAttempt.DueAt"/>.
    /// </summary>
    internal bool UseVisibilityDelay { get; set; } = true;

    public QueueClient Client => _queue;

    public Task ScheduleAsync(NotificationAttempt attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var delay = attempt.DueAt - _time.GetUtcNow();
        delay = !UseVisibilityDelay || delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxDelay - TimeSpan.FromMinutes(1) ? MaxDelay - TimeSpan.FromMinutes(1) : delay;
        return _created.RunAsync(ct => _queue.SendMessageAsync(attempt.ToJson(), delay, MaxDelay, ct), cancellationToken);
    }
}
