using System.Text;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Processing;
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

        // Warm-up: JIT, table creation, connections.
        foreach (string envelope in Envelopes("warm", 50))
        {
            await processor.ProcessAsync(envelope, 1, CancellationToken.None);
        }

        var floorOptions = new TableClientOptions();
        floorOptions.AddPolicy(counter, Azure.Core.HttpPipelinePosition.PerRetry);
        var floorTables = new TableServiceClient(azurite.ConnectionString, floorOptions);
        var floorEntries = floorTables.GetTableClient("BenchFloorEntries");
        var floorHistory = floorTables.GetTableClient("BenchFloorHistory");
        await floorEntries.CreateIfNotExistsAsync();
        await floorHistory.CreateIfNotExistsAsync();
        for (int i = 0; i < 50; i++)
        {
            await FloorEvent(floorEntries, floorHistory, $"warm{i}@example.com");
        }

        var cpu = new CpuProfile(azurite);
        var envelopes = Envelopes("contact", events);
        counter.Reset();
        int notProcessed = 0;
        var run = await LoadStats.RunAsync(events, Concurrency, cpu, async i =>
        {
            var result = await processor.ProcessAsync(envelopes[i], 1, CancellationToken.None);
            if (result.Outcome != EventOutcome.Processed)
            {
                Interlocked.Increment(ref notProcessed);
            }

            return result.Outcome == EventOutcome.Processed;
        });
        double processorRequests = counter.Requests / (double)events;

        counter.Reset();
        var floor = await LoadStats.RunAsync(events, Concurrency, cpu, async i =>
        {
            await FloorEvent(floorEntries, floorHistory, $"contact{i}@example.com");
            return true;
        });
        double floorRequests = counter.Requests / (double)events;

        // The floor plus the point read the processor does before its write: how much of the gap is that one request.
        counter.Reset();
        var floorWithRead = await LoadStats.RunAsync(events, Concurrency, cpu, async i =>
        {
            await floorEntries.GetEntityIfExistsAsync<TableEntity>("mg.example.com", $"read{i}@example.com");
            await FloorEvent(floorEntries, floorHistory, $"read{i}@example.com");
            return true;
        });
        double floorWithReadRequests = counter.Requests / (double)events;

        return new StringBuilder()
            .AppendLine($"{events} distinct hard bounces, {Concurrency} concurrent messages (the queue trigger's batch size).")
            .AppendLine()
            .AppendLine($"| | Events/s | Ratio (goal ≥ 0.7) | p50 ms | p99 ms | Storage requests per event | Not processed | {LoadStats.CpuHeaders} |")
            .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            .AppendLine($"| EventProcessor | {run.PerSecond:F0} | {run.PerSecond / floor.PerSecond:F2} | {run.Percentile(50):F1} | {run.Percentile(99):F1} | {processorRequests:F2} | {notProcessed} | {run.CpuCells} |")
            .AppendLine($"| floor: raw history insert + DND upsert | {floor.PerSecond:F0} | 1.00 | {floor.Percentile(50):F1} | {floor.Percentile(99):F1} | {floorRequests:F2} | 0 | {floor.CpuCells} |")
            .AppendLine($"| for comparison: floor + the point read before the write | {floorWithRead.PerSecond:F0} | {floorWithRead.PerSecond / floor.PerSecond:F2} | {floorWithRead.Percentile(50):F1} | {floorWithRead.Percentile(99):F1} | {floorWithReadRequests:F2} | 0 | {floorWithRead.CpuCells} |")
            .ToString();
    }

    /// <summary>The least any processor must write per event: its history record (insert, a 409 for a duplicate) and the entry.</summary>
    private static async Task FloorEvent(TableClient entries, TableClient history, string address)
    {
        string partition = "mg.example.com";
        string message = "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address.";
        await history.AddEntityAsync(new TableEntity($"{partition}|{address}", $"{long.MaxValue - WebhookSamples.Now.UtcTicks:D19}-0123456789abcdef")
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
        await entries.UpsertEntityAsync(new TableEntity(partition, address)
        {
            ["State"] = "Permanent",
            ["PermanentAt"] = WebhookSamples.Now,
            ["PermanentRule"] = "enhanced-5.1.x",
            ["PermanentMessage"] = message,
            ["ContactId"] = "c-7d1f0e2a-5b11-4a6e-9c1e-0a8a6f1b2c3d",
        }, TableUpdateMode.Replace);
    }
}
