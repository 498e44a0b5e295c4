using Azure.Storage.Queues.Models;
using MailgunFunctions.Processing;
using MailgunFunctions.Storage;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>Classifies each queued Mailgun event and updates the recipient's DND entry.</summary>
public sealed class EventProcessorFunction(EventProcessor processor)
{
    /// <remarks>
    /// Bound to <see cref="QueueMessage"/> for its DequeueCount; messages that can never be processed are moved
    /// to poison by the processor itself, with a reason; a throw means "retry" (host.json maxDequeueCount).
    /// </remarks>
    [Function("ProcessMailgunEvent")]
    public Task RunAsync(
        [QueueTrigger(StorageNames.EventsQueue, Connection = StorageNames.ConnectionSetting)] QueueMessage message,
        CancellationToken cancellationToken) =>
        processor.ProcessAsync(message.MessageText, message.DequeueCount, cancellationToken);
}
