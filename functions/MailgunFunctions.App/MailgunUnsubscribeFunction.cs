using Azure.Storage.Queues.Models;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Storage;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>Mirrors our own unsubscribes (the platform's link, replies) and the link's undo on Mailgun's unsubscribe lists.</summary>
public sealed class MailgunUnsubscribeFunction(MailgunUnsubscribeSync sync)
{
    /// <remarks>A throw (Mailgun or storage failed) makes the host show the message again; after maxDequeueCount it goes to <c>mailgun-unsubscribes-poison</c>.</remarks>
    [Function("SyncMailgunUnsubscribe")]
    public Task RunAsync(
        [QueueTrigger(StorageNames.MailgunUnsubscribesQueue, Connection = StorageNames.ConnectionSetting)] QueueMessage message,
        CancellationToken cancellationToken) =>
        sync.ProcessAsync(message.MessageText, cancellationToken);
}
