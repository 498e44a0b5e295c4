using Azure;

namespace MailgunFunctions.Storage;

/// <summary>
/// Runs an idempotent "create if not exists" the first time storage is used, and again when storage says the
/// table, queue or container is gone (deleted by hand, lost by an emulator restart), so the app heals without
/// a restart. Concurrent first callers may both create; that is harmless because creation is idempotent.
/// </summary>
public sealed class CreateOnce(Func<CancellationToken, Task> create)
{
    private volatile bool _done;

    public async ValueTask EnsureAsync(CancellationToken cancellationToken)
    {
        if (_done)
        {
            return;
        }

        await create(cancellationToken).ConfigureAwait(false);
        _done = true;
    }

    /// <summary>Runs <paramref name="operation"/> on created storage; re-creates and runs it once more if the resource vanished.</summary>
    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        await EnsureAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await operation(cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (IsResourceMissing(ex))
        {
            _done = false;
            await EnsureAsync(cancellationToken).ConfigureAwait(false);
            return await operation(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task RunAsync(Func<CancellationToken, Task> operation, CancellationToken cancellationToken) =>
        await RunAsync<bool>(async ct => { await operation(ct).ConfigureAwait(false); return true; }, cancellationToken).ConfigureAwait(false);

    private static bool IsResourceMissing(RequestFailedException ex) =>
        ex.Status == 404 && ex.ErrorCode is "TableNotFound" or "QueueNotFound" or "ContainerNotFound";
}
