using Azure.Storage.Queues.Models;
using MailgunFunctions.Export;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunFunctions.App;

/// <summary>Exports and reconciles one tenant's domain for the job's date (<see cref="ExportJobRunner"/>); scales out with the queue.</summary>
public sealed class SuppressionExportJobFunction(TenantShards shards)
{
    /// <remarks>
    /// Bound to <see cref="QueueMessage"/> for its DequeueCount. A scope that cannot succeed (key refused, tenant gone)
    /// is recorded as failed and the call returns; a throw means "retry" (host.json maxDequeueCount, then poison). The
    /// jobs queue is the home account's; the runner is the tenant's shard's, so reconciliation writes where its DND entries are.
    /// </remarks>
    [Function("ExportSuppressionsJob")]
    public async Task RunAsync(
        [QueueTrigger(StorageNames.ExportJobsQueue, Connection = StorageNames.ConnectionSetting)] QueueMessage message,
        CancellationToken cancellationToken)
    {
        var services = await shards.ForTenantAsync(ExportJobRunner.TenantOf(message.MessageText), cancellationToken);
        await services.GetRequiredService<ExportJobRunner>().RunAsync(message.MessageText, message.DequeueCount, cancellationToken);
    }
}
