using Azure.Storage.Queues.Models;
using MailgunFunctions.Inbound;
using MailgunFunctions.Storage;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>Processes replies queued by <see cref="InboundWebhook"/>.</summary>
public sealed class InboundReplyQueue(InboundProcessor processor)
{
    /// <remarks>Bound to <see cref="QueueMessage"/> so the processor reads the text itself and can name the reason when it parks a message in poison.</remarks>
    [Function("ProcessMailgunInbound")]
    public async Task RunAsync(
        [QueueTrigger(StorageNames.InboundQueue, Connection = StorageNames.ConnectionSetting)] QueueMessage message,
        CancellationToken cancellationToken)
    {
        await processor.ProcessAsync(message.MessageId, message.Body.ToString(), cancellationToken);
    }
}
