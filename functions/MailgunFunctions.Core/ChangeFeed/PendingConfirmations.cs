using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.ChangeFeed;

/// <summary>
/// Deletes the outbox rows of dispatched changes. Confirmations that arrive while a delete is running are collected and
/// deleted together, per tenant partition, in one entity-group transaction of up to 100 (group commit): under load a
/// confirmation costs a fraction of a request, and a quiet instance still deletes each at once. Up to
/// <see cref="ConcurrentDeletes"/> groups are deleted at the same time. A caller's task completes
/// when its row is gone. A failed confirmation leaves the row: the sweeper sends the change again later.
/// </summary>
public sealed class PendingConfirmations
{
    // Group deletes in flight at once: a few overlap their round trips (a burst of confirmations spans partitions and
    // groups of 100); one at a time would make the group commit's latency the cap on notices per second.
    private const int ConcurrentDeletes = 4;

    private readonly TableClient _entries;
    private readonly ILogger<PendingConfirmations> _logger;
    private readonly Lock _gate = new();
    private List<(string Partition, string RowKey, TaskCompletionSource Done)> _waiting = [];
    private bool _running;

    public PendingConfirmations(StorageClients clients, ILogger<PendingConfirmations> logger)
    {
        _entries = clients.Tables.GetTableClient(StorageNames.DndEntriesTable);
        _logger = logger;
    }

    public Task ConfirmAsync(string partition, string pendingRowKey)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool lead;
        lock (_gate)
        {
            _waiting.Add((partition, pendingRowKey, done));
            lead = !_running;
            _running = true;
        }

        if (lead)
        {
            _ = Task.Run(DeleteWaitingAsync);
        }

        return done.Task;
    }

    private async Task DeleteWaitingAsync()
    {
        while (true)
        {
            List<(string Partition, string RowKey, TaskCompletionSource Done)> batch;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _running = false;
                    return;
                }

                batch = _waiting;
                _waiting = [];
            }

            // Each (partition, up to 100 rows) is one transaction; the waiters of a row confirmed twice share its delete.
            var groups = batch.GroupBy(w => w.Partition, StringComparer.Ordinal)
                .SelectMany(p => p.GroupBy(w => w.RowKey, StringComparer.Ordinal).Chunk(100).Select(rows => (Partition: p.Key, Rows: rows)));
            await Parallel.ForEachAsync(groups, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentDeletes }, async (group, _) =>
            {
                try
                {
                    await DeleteAsync(group.Partition, group.Rows.Select(r => r.Key).ToList()).ConfigureAwait(false);
                    foreach (var waiter in group.Rows.SelectMany(r => r))
                    {
                        waiter.Done.TrySetResult();
                    }
                }
                catch (Exception ex)
                {
                    ChangeFeedLog.ConfirmFailed(_logger, ex, group.Rows.Length, ex.Message.Split('\n', 2)[0]);
                    foreach (var waiter in group.Rows.SelectMany(r => r))
                    {
                        waiter.Done.TrySetException(ex);
                    }
                }
            }).ConfigureAwait(false);
        }
    }

    private async Task DeleteAsync(string partition, IReadOnlyList<string> rowKeys)
    {
        if (rowKeys.Count > 1)
        {
            try
            {
                await DndChangeLog.SubmitAsync(_entries, rowKeys.Select(r => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, r), ETag.All)).ToList(), default).ConfigureAwait(false);
                return;
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404)
            {
                // One of them was deleted already (a sweeper or a redelivery sent it too): delete the rest one by one.
            }
        }

        foreach (string row in rowKeys)
        {
            // A 404 is an answer here (already deleted), not an exception.
            await _entries.DeleteEntityAsync(partition, row, ETag.All).ConfigureAwait(false);
        }
    }
}
