using System.Text;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Processing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// Harness 3: N queued envelopes (distinct hard bounces, the bounce-storm case) processed by EventProcessor, the
/// queue function's whole code, against Azurite; the floor is the minimum storage work per event done raw with
/// TableClient (the conditional history insert plus the DND upsert) at the same concurrency, in the same run. Both
/// count their storage requests with a pipeline policy, and every run has its CPU profile (this process and Azurite).
/// </summary>
public static class ProcessingLoad
{
    // The Functions queue trigger hands a worker up to batchSize (16) messages at once.
    private const int Concurrency = 16;

    // Every run starts from a DND entries partition of this many rows. Azurite's point operations get slower as a
    // partition grows, so runs against partitions of different sizes would not compare: LokiTableMetadataStore.js
    // (azurite 3.35.0) gives each table's collection indices ["PartitionKey", "RowKey"] and finds the entity of an
    // insert, upsert, merge or point read with findOne({ PartitionKey, RowKey }); lokijs.js (1.5.12) turns those two
    // keys into an $and, and Resultset.prototype.find uses a binary index only for the first filter applied ("only
    // enabling where it is the first filter applied"), so RowKey is matched by a linear scan of the partition's rows.
    private const int WarmRows = 50;

    // The tenant of the floor's entries: the sample webhook's sending domain, as the processor keys its own.
    private const string FloorPartition = "mg.example.com";

    public static async Task<string> RunAsync(int events)
    {
        await using var azurite = await Azurite.StartDedicatedAsync(persistent: false);
        var counter = new StorageRequestCounter();
        var configuration = TestSettings.Configuration(azurite.ConnectionString, new Dictionary<string, string?> { ["Storage:MaxRetries"] = "2" });
        await using var services = TestSettings.Services(configuration, (s, c) => s.AddMailgunCore(c), TimeProvider.System,
            before: s => s.AddSingleton<HttpPipelinePolicy>(counter));
        await using var preparing = TestSettings.Services(TestSettings.Configuration(Azurite.Unreachable()), (s, c) => s.AddMailgunCore(c), new FakeTimeProvider(WebhookSamples.Now));
        var intake = preparing.GetRequiredService<EventWebhookIntake>();
        var processor = services.GetRequiredService<EventProcessor>();

        string[] Envelopes(string prefix, int count) => Enumerable.Range(0, count).Select(i =>
        {
            using var prepared = intake.Prepare(WebhookSamples.FailedWebhook($"{prefix}{i}@example.com"));
            return Encoding.UTF8.GetString(prepared.EnvelopeJson.Span);
        }).ToArray();

        // Warm-up: JIT, table creation, connections, and the processor's starting rows. Its tables are the app's (fixed
        // names) in this run's own Azurite, so they hold nothing else: the processor runs first, from these rows only.
        string? tenant = null;
        foreach (string envelope in Envelopes("warm", WarmRows))
        {
            tenant = (await processor.ProcessAsync(envelope, 1, CancellationToken.None)).Tenant;
        }

        // The floor and the floor + read runs each get fresh tables warmed with the same rows, so none starts bigger
        // because another ran before it.
        var floorOptions = new TableClientOptions();
        floorOptions.AddPolicy(counter, Azure.Core.HttpPipelinePosition.PerRetry);
        var floorTables = new TableServiceClient(azurite.ConnectionString, floorOptions);
        var floor = await FloorTables.CreateAsync(floorTables, "BenchFloor");
        var floorWithRead = await FloorTables.CreateAsync(floorTables, "BenchFloorRead");

        // Uncounted, so looking at partition sizes adds nothing to the runs' storage requests.
        var inspection = new TableServiceClient(azurite.ConnectionString);
        string processorPartition = DndKeys.TenantKey(tenant ?? throw new InvalidOperationException("the warm-up events named no tenant"));
        var sizes = new List<string>();
        var cpu = new CpuProfile(azurite);

        async Task<(LoadStats Run, double Requests)> Measure(string run, string entriesTable, string partition, Func<int, Task<bool>> operation)
        {
            var entries = inspection.GetTableClient(entriesTable);
            long before = await PartitionSizeAsync(entries, partition);
            counter.Reset();
            var stats = await LoadStats.RunAsync(events, Concurrency, cpu, operation);
            double requests = counter.Requests / (double)events;
            sizes.Add($"{run} {before} → {await PartitionSizeAsync(entries, partition)}");
            return (stats, requests);
        }

        var envelopes = Envelopes("contact", events);
        int notProcessed = 0;
        var (processorRun, processorRequests) = await Measure("EventProcessor", StorageNames.DndEntriesTable, processorPartition, async i =>
        {
            var result = await processor.ProcessAsync(envelopes[i], 1, CancellationToken.None);
            if (result.Outcome != EventOutcome.Processed)
            {
                Interlocked.Increment(ref notProcessed);
            }

            return result.Outcome == EventOutcome.Processed;
        });

        var (floorRun, floorRequests) = await Measure("floor", floor.Entries.Name, FloorPartition, async i =>
        {
            await FloorEvent(floor, $"contact{i}@example.com");
            return true;
        });

        // The floor plus the point read the processor does before its write: how much of the gap is that one request.
        var (floorWithReadRun, floorWithReadRequests) = await Measure("floor + read", floorWithRead.Entries.Name, FloorPartition, async i =>
        {
            string address = $"contact{i}@example.com";
            await floorWithRead.Entries.GetEntityIfExistsAsync<TableEntity>(FloorPartition, address);
            await FloorEvent(floorWithRead, address);
            return true;
        });

        string Row(string name, LoadStats run, double requests, int failed) =>
            $"| {name} | {run.PerSecond:F0} | {run.PerSecond / floorRun.PerSecond:F2} | {run.Percentile(50):F1} | {run.Percentile(99):F1} | {requests:F2} | {failed} | {run.CpuCells} |";
        return new StringBuilder()
            .AppendLine($"{events} distinct hard bounces, {Concurrency} concurrent messages (the queue trigger's batch size).")
            .AppendLine()
            .AppendLine($"| | Events/s | Ratio (goal ≥ 0.7) | p50 ms | p99 ms | Storage requests per event | Not processed | {LoadStats.CpuHeaders} |")
            .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            .AppendLine(Row("EventProcessor", processorRun, processorRequests, notProcessed))
            .AppendLine(Row("floor: raw history insert + DND upsert", floorRun, floorRequests, 0))
            .AppendLine(Row("for comparison: floor + the point read before the write", floorWithReadRun, floorWithReadRequests, 0))
            .AppendLine()
            .AppendLine($"Rows in the DND entries partition every point operation scans, at the start → end of each run (each on its own tables): {string.Join("; ", sizes)}.")
            .ToString();
    }

    /// <summary>A floor run's own entries and history tables, warmed with the rows every run starts from.</summary>
    private sealed record FloorTables(TableClient Entries, TableClient History)
    {
        public static async Task<FloorTables> CreateAsync(TableServiceClient service, string prefix)
        {
            var tables = new FloorTables(service.GetTableClient(prefix + "Entries"), service.GetTableClient(prefix + "History"));
            await tables.Entries.CreateIfNotExistsAsync();
            await tables.History.CreateIfNotExistsAsync();
            for (int i = 0; i < WarmRows; i++)
            {
                await FloorEvent(tables, $"warm{i}@example.com");
            }

            return tables;
        }
    }

    private static async Task<long> PartitionSizeAsync(TableClient entries, string partition)
    {
        long rows = 0;
        await foreach (var _ in entries.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), select: ["RowKey"]))
        {
            rows++;
        }

        return rows;
    }

    /// <summary>The least any processor must write per event: its history record (insert, a 409 for a duplicate) and the entry.</summary>
    private static async Task FloorEvent(FloorTables tables, string address)
    {
        string partition = FloorPartition;
        string message = "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address.";
        await tables.History.AddEntityAsync(new TableEntity($"{partition}|{address}", $"{long.MaxValue - WebhookSamples.Now.UtcTicks:D19}-0123456789abcdef")
        {
            ["EventId"] = "ev-0123456789abcdefghij",
            ["Kind"] = "PermanentCause",
            ["Code"] = 550,
            ["EnhancedCode"] = "5.1.1",
            ["Message"] = message,
            ["Rule"] = "enhanced-5.1.x",
            ["PreviousState"] = "None",
            ["NewState"] = "Permanent",
        });
        await tables.Entries.UpsertEntityAsync(new TableEntity(partition, address)
        {
            ["State"] = "Permanent",
            ["PermanentAt"] = WebhookSamples.Now,
            ["PermanentRule"] = "enhanced-5.1.x",
            ["PermanentMessage"] = message,
            ["ContactId"] = "c-7d1f0e2a-5b11-4a6e-9c1e-0a8a6f1b2c3d",
        }, TableUpdateMode.Replace);
    }
}
