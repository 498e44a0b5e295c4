using Azure;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.ChangeFeed;

/// <summary>
/// Deletes the outbox rows of dispatched changes. Confirmations that arrive while a delete is running are collected and
/// deleted together, per tenant partition, in one entity-group transaction of up to 100 (group commit): under load a
/// confirmation costs a fraction of a request, and a quiet instance still deletes each at once. A caller's task completes
/// when its row is gone. A failed confirmation leaves the row: the sweeper sends the change again later.
/// </summary>
public sealed class PendingConfirmations
{
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

            foreach (var group in batch.GroupBy(w => w.Partition, StringComparer.Ordinal).SelectMany(g => g.DistinctBy(w => w.RowKey).Chunk(100).Select(c => (g.Key, c))))
            {
                var rows = group.c;
                var waiters = batch.Where(w => w.Partition == group.Key && rows.Any(r => r.RowKey == w.RowKey)).ToList();
                try
                {
                    await DeleteAsync(group.Key, rows.Select(r => r.RowKey).ToList()).ConfigureAwait(false);
                    waiters.ForEach(w => w.Done.TrySetResult());
                }
                catch (Exception ex)
                {
                    ChangeFeedLog.ConfirmFailed(_logger, ex, rows.Length, ex.Message.Split('\n', 2)[0]);
                    waiters.ForEach(w => w.Done.TrySetException(ex));
                }
            }
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
