namespace MailgunFunctions.Storage;

/// <summary>
/// Runs an idempotent "create if not exists" the first time storage is used, and again after a failure,
/// so a storage outage at start-up does not leave the app unable to recover without a restart.
/// Concurrent first callers may both run it; that is harmless because the creation is idempotent.
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
}
