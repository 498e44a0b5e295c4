using Azure.Storage.Queues.Models;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Storage;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>Retries of the platform's signed POSTs (the first attempt is made by the instance that recorded the change).</summary>
public sealed class DndNotificationFunction(NotificationDelivery delivery)
{
    /// <remarks>
    /// Its own queue (<c>dnd-notifications</c>), never <c>dnd-changes</c>, which belongs to consumers. Each run posts once
    /// (bounded by Notifications:Timeout) and puts the message back hidden for the next back-off step, so a slow or dead
    /// endpoint never holds a worker for long; a throw (storage failed) makes the host show the message again.
    /// </remarks>
    [Function("DeliverDndNotification")]
    public Task RunAsync(
        [QueueTrigger(StorageNames.NotificationsQueue, Connection = StorageNames.ConnectionSetting)] QueueMessage message,
        CancellationToken cancellationToken) =>
        delivery.DeliverAsync(message.MessageText, cancellationToken);
}
