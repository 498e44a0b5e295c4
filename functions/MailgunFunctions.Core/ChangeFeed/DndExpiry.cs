using System.Diagnostics;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.ChangeFeed;

/// <summary>What one expiry run did.</summary>
public sealed record ExpiryRun(int Checked, int Expired, int Left);

/// <summary>
/// The job of the <c>ExpireTemporaryDnd</c> timer (every minute): for each index row whose minute has passed, let the
/// store re-evaluate the entry and, if its temporary DND is over, write the new state with the next version and announce it
/// (<see cref="DndStore.ExpireAsync"/>); then delete the handled rows. So a temporary DND ends, and says so, within about
/// two minutes of its time. A run stops taking rows after <see cref="RunBudget"/>; the rest wait for the next run.
/// Rows of a tenant being moved between shards wait too (on both shards: see <see cref="TenantShards.StandingAsync"/>);
/// rows of a tenant now on another shard are unused copies: deleted here, not expired (its own shard's index has them).
/// </summary>
public sealed class DndExpiry(DndStore store, DndExpiryIndex index, TenantShards shards, StorageShard shard, IOptions<ChangeFeedOptions> options, TimeProvider time,
    ILogger<DndExpiry> logger)
{
    /// <summary>Under the timer's period plus the 5-minute goal: a long backlog is worked off over several runs.</summary>
    public static readonly TimeSpan RunBudget = TimeSpan.FromMinutes(3);

    public async Task<ExpiryRun> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        long started = Stopwatch.GetTimestamp();
        var handled = new List<DueExpiry>();
        int expired = 0, seen = 0, left = 0;
        using var gate = new SemaphoreSlim(options.Value.ExpiryConcurrency);
        var running = new List<Task>();
        await foreach (var due in index.DueAsync(now, cancellationToken).ConfigureAwait(false))
        {
            seen++;
            if (Stopwatch.GetElapsedTime(started) > RunBudget)
            {
                Interlocked.Increment(ref left);
                continue;
            }

            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            running.Add(Task.Run(async () =>
            {
                try
                {
                    var standing = await shards.StandingAsync(due.Tenant, shard.Number, cancellationToken).ConfigureAwait(false);
                    if (standing == TenantStanding.Moving)
                    {
                        Interlocked.Increment(ref left);
                        return;
                    }

                    if (standing == TenantStanding.Here && await store.ExpireAsync(due.Tenant, due.Address, cancellationToken).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref expired);
                    }

                    lock (handled)
                    {
                        handled.Add(due);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    ChangeFeedLog.ExpiryFailed(logger, ex, due.Tenant, DndNotice.HashOf(due.Address), ex.Message.Split('\n', 2)[0]);
                }
                finally
                {
                    gate.Release();
                }
            }, cancellationToken));
        }

        await Task.WhenAll(running).ConfigureAwait(false);
        await index.DeleteAsync(handled, cancellationToken).ConfigureAwait(false);
        ChangeFeedLog.Expired(logger, expired, seen, left);
        return new ExpiryRun(seen, expired, left);
    }
}
