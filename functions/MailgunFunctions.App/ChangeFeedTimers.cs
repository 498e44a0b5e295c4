using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Tenants;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunFunctions.App;

/// <summary>
/// The change feed's timers: expiry of temporary DNDs, the sweeper of undispatched changes, the change log's purge. Each
/// run covers every storage shard in turn, with the shard's own services (its expiry index, its tenants' outbox rows).
/// </summary>
public sealed class ChangeFeedTimers(TenantShards shards)
{
    /// <remarks>Every minute: a temporary DND ends, and is announced, within about two minutes of its time (goal: 5).</remarks>
    [Function("ExpireTemporaryDnd")]
    public Task ExpireAsync([TimerTrigger("0 * * * * *", RunOnStartup = false, UseMonitor = true)] TimerInfo timer, CancellationToken cancellationToken) =>
        EachShardAsync<DndExpiry>((expiry, ct) => expiry.RunAsync(ct), cancellationToken);

    /// <remarks>Every 2 minutes: changes a stopped instance recorded but did not send.</remarks>
    [Function("SweepDndChanges")]
    public Task SweepAsync([TimerTrigger("30 */2 * * * *", RunOnStartup = false, UseMonitor = true)] TimerInfo timer, CancellationToken cancellationToken) =>
        EachShardAsync<DndChangeSweeper>((sweeper, ct) => sweeper.SweepAsync(ct), cancellationToken);

    /// <remarks>Daily: change rows past ChangeFeed:Retention.</remarks>
    [Function("PurgeDndChangeLog")]
    public Task PurgeAsync([TimerTrigger("0 20 3 * * *", RunOnStartup = false, UseMonitor = true)] TimerInfo timer, CancellationToken cancellationToken) =>
        EachShardAsync<DndChangeSweeper>((sweeper, ct) => sweeper.PurgeAsync(ct), cancellationToken);

    /// <summary>Every shard, even when one fails (its error is rethrown at the end, so the run shows as failed and the next one tries again).</summary>
    private async Task EachShardAsync<T>(Func<T, CancellationToken, Task> work, CancellationToken cancellationToken)
        where T : notnull
    {
        var failures = new List<Exception>();
        foreach (var (_, services) in shards.All)
        {
            try
            {
                await work(services.GetRequiredService<T>(), cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures.Add(ex);
            }
        }

        if (failures.Count > 0)
        {
            throw failures.Count == 1 ? failures[0] : new AggregateException(failures);
        }
    }
}
