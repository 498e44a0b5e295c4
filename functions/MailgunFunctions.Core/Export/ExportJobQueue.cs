using Azure.Storage.Queues;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Export;

/// <summary>
/// The <c>suppression-export-jobs</c> queue seen from the producers: the nightly fan-out and a job that queues its own
/// continuation. Base64, like every queue the Functions host reads (StorageClients sets the encoding).
/// </summary>
public sealed class ExportJobQueue
{
    private readonly QueueClient _queue;
    private readonly QueueClient _poison;
    private readonly CreateOnce _created;
    private readonly CreateOnce _poisonCreated;
    private readonly SuppressionExportOptions _options;

    public ExportJobQueue(HomeStorage clients, IOptions<SuppressionExportOptions> options)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(options);
        _queue = clients.Queues.GetQueueClient(StorageNames.ExportJobsQueue);
        _poison = clients.Queues.GetQueueClient(StorageNames.ExportJobsPoisonQueue);
        _created = new CreateOnce(ct => _queue.CreateIfNotExistsAsync(cancellationToken: ct));
        _poisonCreated = new CreateOnce(ct => _poison.CreateIfNotExistsAsync(cancellationToken: ct));
        _options = options.Value;
    }

    /// <summary>
    /// Sends every job, <see cref="SuppressionExportOptions.FanOutConcurrency"/> at a time (a queue has no batch send, so
    /// this is what makes 10,000 jobs take seconds), and returns how many were sent. The first send that fails after the
    /// storage client's retries stops the rest and throws: what was sent stays queued, and sending all again is harmless.
    /// </summary>
    public async Task<int> SendAsync(IAsyncEnumerable<ExportJob> jobs, CancellationToken cancellationToken)
    {
        int sent = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.FanOutConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(jobs, parallel, async (job, token) =>
        {
            await SendAsync(job, token).ConfigureAwait(false);
            Interlocked.Increment(ref sent);
        }).ConfigureAwait(false);
        return sent;
    }

    public Task SendAsync(ExportJob job, CancellationToken cancellationToken) => SendAsync(job, null, cancellationToken);

    /// <param name="visibleAfter">How long the job stays invisible to the trigger (a job waiting for a tenant move).</param>
    public Task SendAsync(ExportJob job, TimeSpan? visibleAfter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        return _created.RunAsync(ct => _queue.SendMessageAsync(job.ToJson(), visibleAfter, cancellationToken: ct), cancellationToken);
    }

    /// <summary>Parks a message that can never be run on <c>suppression-export-jobs-poison</c>, unchanged, as the host would after its retries.</summary>
    public Task PoisonAsync(string messageText, CancellationToken cancellationToken) =>
        _poisonCreated.RunAsync(ct => _poison.SendMessageAsync(messageText, ct), cancellationToken);
}
