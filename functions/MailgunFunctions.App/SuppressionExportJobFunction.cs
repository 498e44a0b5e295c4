using Azure.Storage.Queues.Models;
using MailgunFunctions.Export;
using MailgunFunctions.Storage;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>Exports and reconciles one tenant's domain for the job's date (<see cref="ExportJobRunner"/>); scales out with the queue.</summary>
public sealed class SuppressionExportJobFunction(ExportJobRunner runner)
{
    /// <remarks>
    /// Bound to <see cref="QueueMessage"/> for its DequeueCount. A scope that cannot succeed (key refused, tenant gone)
    /// is recorded as failed and the call returns; a throw means "retry" (host.json maxDequeueCount, then poison).
    /// </remarks>
    [Function("ExportSuppressionsJob")]
    public Task RunAsync(
        [QueueTrigger(StorageNames.ExportJobsQueue, Connection = StorageNames.ConnectionSetting)] QueueMessage message,
        CancellationToken cancellationToken) =>
        runner.RunAsync(message.MessageText, message.DequeueCount, cancellationToken);
}
