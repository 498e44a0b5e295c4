using MailgunFunctions.ChangeFeed;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>The change feed's timers: expiry of temporary DNDs, the sweeper of undispatched changes, the change log's purge.</summary>
public sealed class ChangeFeedTimers(DndExpiry expiry, DndChangeSweeper sweeper)
{
    /// <remarks>Every minute: a temporary DND ends, and is announced, within about two minutes of its time (goal: 5).</remarks>
    [Function("ExpireTemporaryDnd")]
    public Task ExpireAsync([TimerTrigger("0 * * * * *", RunOnStartup = false, UseMonitor = true)] TimerInfo timer, CancellationToken cancellationToken) =>
        expiry.RunAsync(cancellationToken);

    /// <remarks>Every 2 minutes: changes a stopped instance recorded but did not send.</remarks>
    [Function("SweepDndChanges")]
    public Task SweepAsync([TimerTrigger("30 */2 * * * *", RunOnStartup = false, UseMonitor = true)] TimerInfo timer, CancellationToken cancellationToken) =>
        sweeper.SweepAsync(cancellationToken);

    /// <remarks>Daily: change rows past ChangeFeed:Retention.</remarks>
    [Function("PurgeDndChangeLog")]
    public Task PurgeAsync([TimerTrigger("0 20 3 * * *", RunOnStartup = false, UseMonitor = true)] TimerInfo timer, CancellationToken cancellationToken) =>
        sweeper.PurgeAsync(cancellationToken);
}
