namespace FunctionsHost;

/// <summary>The background loop of a queue or timer trigger: runs until the host stops; disposing waits for it to end.</summary>
internal abstract class TriggerLoop : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private Task _loop = Task.CompletedTask;

    protected TriggerLoop(StandInHost host) => _stop = CancellationTokenSource.CreateLinkedTokenSource(host.Stopping);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped while waiting (for messages, or for the next occurrence).
        }

        _stop.Dispose();
    }

    /// <summary>Starts <see cref="RunAsync"/>; the subclass calls it once it is fully built.</summary>
    protected void StartLoop() => _loop = Task.Run(() => RunAsync(_stop.Token));

    protected abstract Task RunAsync(CancellationToken stop);
}
