using Azure.Storage.Queues.Models;
using MailgunFunctions.Inbound;
using MailgunFunctions.Processing;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunFunctions.App;

/// <summary>
/// The events and inbound queues of shards 1 to 7 (shard 0's are <see cref="EventProcessorFunction"/> and
/// <see cref="InboundReplyQueue"/>). Functions bindings are fixed at build time, so every shard up to
/// <see cref="StorageNames.MaxShards"/> has its triggers here, each on its shard's connection setting
/// (<c>StorageShard{k}</c>), and the shards past <c>Storage__Shards</c> are switched off by the app settings
/// <c>AzureWebJobs.{function}.Disabled</c> (infra/main.bicep writes them from K). Each run is the same processor as
/// shard 0's, resolved from the shard's own services, so it reads and writes that shard only.
/// </summary>
public sealed class ShardQueueFunctions(TenantShards shards)
{
    private Task ProcessEventAsync(int shard, QueueMessage message, CancellationToken cancellationToken) =>
        shards.Services(shard).GetRequiredService<EventProcessor>().ProcessAsync(message.MessageText, message.DequeueCount, cancellationToken);

    private Task ProcessInboundAsync(int shard, QueueMessage message, CancellationToken cancellationToken) =>
        shards.Services(shard).GetRequiredService<InboundProcessor>().ProcessAsync(message.MessageId, message.Body.ToString(), cancellationToken);

    [Function("ProcessMailgunEventShard1")]
    public Task EventsShard1Async([QueueTrigger(StorageNames.EventsQueue, Connection = "StorageShard1")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessEventAsync(1, message, cancellationToken);

    [Function("ProcessMailgunInboundShard1")]
    public Task InboundShard1Async([QueueTrigger(StorageNames.InboundQueue, Connection = "StorageShard1")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessInboundAsync(1, message, cancellationToken);

    [Function("ProcessMailgunEventShard2")]
    public Task EventsShard2Async([QueueTrigger(StorageNames.EventsQueue, Connection = "StorageShard2")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessEventAsync(2, message, cancellationToken);

    [Function("ProcessMailgunInboundShard2")]
    public Task InboundShard2Async([QueueTrigger(StorageNames.InboundQueue, Connection = "StorageShard2")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessInboundAsync(2, message, cancellationToken);

    [Function("ProcessMailgunEventShard3")]
    public Task EventsShard3Async([QueueTrigger(StorageNames.EventsQueue, Connection = "StorageShard3")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessEventAsync(3, message, cancellationToken);

    [Function("ProcessMailgunInboundShard3")]
    public Task InboundShard3Async([QueueTrigger(StorageNames.InboundQueue, Connection = "StorageShard3")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessInboundAsync(3, message, cancellationToken);

    [Function("ProcessMailgunEventShard4")]
    public Task EventsShard4Async([QueueTrigger(StorageNames.EventsQueue, Connection = "StorageShard4")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessEventAsync(4, message, cancellationToken);

    [Function("ProcessMailgunInboundShard4")]
    public Task InboundShard4Async([QueueTrigger(StorageNames.InboundQueue, Connection = "StorageShard4")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessInboundAsync(4, message, cancellationToken);

    [Function("ProcessMailgunEventShard5")]
    public Task EventsShard5Async([QueueTrigger(StorageNames.EventsQueue, Connection = "StorageShard5")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessEventAsync(5, message, cancellationToken);

    [Function("ProcessMailgunInboundShard5")]
    public Task InboundShard5Async([QueueTrigger(StorageNames.InboundQueue, Connection = "StorageShard5")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessInboundAsync(5, message, cancellationToken);

    [Function("ProcessMailgunEventShard6")]
    public Task EventsShard6Async([QueueTrigger(StorageNames.EventsQueue, Connection = "StorageShard6")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessEventAsync(6, message, cancellationToken);

    [Function("ProcessMailgunInboundShard6")]
    public Task InboundShard6Async([QueueTrigger(StorageNames.InboundQueue, Connection = "StorageShard6")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessInboundAsync(6, message, cancellationToken);

    [Function("ProcessMailgunEventShard7")]
    public Task EventsShard7Async([QueueTrigger(StorageNames.EventsQueue, Connection = "StorageShard7")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessEventAsync(7, message, cancellationToken);

    [Function("ProcessMailgunInboundShard7")]
    public Task InboundShard7Async([QueueTrigger(StorageNames.InboundQueue, Connection = "StorageShard7")] QueueMessage message, CancellationToken cancellationToken) =>
        ProcessInboundAsync(7, message, cancellationToken);
}
