using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace MailgunFunctions.Storage;

/// <summary>
/// The deployment's own storage account (<c>AzureWebJobsStorage</c>), whichever shard a service works for: the tenant
/// registry, and the low-volume queues read once for the whole deployment (<c>dnd-changes</c> for consumers,
/// <c>dnd-notifications</c> and its dead letters, <c>mailgun-unsubscribes</c>, the export jobs). What a tenant's events
/// touch (events and inbound queues, payloads, DND tables) lives in the tenant's shard: <see cref="StorageClients"/>.
/// With one shard both are the same account.
/// </summary>
public sealed class HomeStorage(StorageClients clients)
{
    public QueueServiceClient Queues => clients.Queues;

    public BlobServiceClient Blobs => clients.Blobs;

    public TableServiceClient Tables => clients.Tables;
}

/// <summary>The shard a container of services works for (0: the home account). Each shard's services are their own container.</summary>
public sealed record StorageShard(int Number);
