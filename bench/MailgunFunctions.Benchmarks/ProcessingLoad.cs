using System.Text;
using Azure.Core;
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
/// TableClient (the conditional history insert plus the DND upsert) at the same concurrency, in the same run, for the
/// same data: the very rows the processor wrote, read back after its run. Azurite's CPU per request grows with the
/// size of the row, so a floor of smaller rows would mix "how many requests" with "how big the rows are"; that floor
/// (small hand-made rows) and the same plus the processor's point read stay as comparison rows. Every run counts its
/// storage requests and request bytes with pipeline policies, and has its CPU profile (this process and Azurite).
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

    // Events of the load that warms each run's Azurite up before it is measured (see RunStorage).
    private const int AzuriteWarmUpEvents = 3000;

    // The tenant of the small-row floor's entries: the sample webhook's sending domain, as the processor keys its own.
    private const string FloorPartition = "mg.example.com";

    // Every row TableEntity reads back carries these two from the storage; a write sets its own (and ignores the ETag).
    private static readonly string[] StorageOwnedProperties = ["Timestamp", "odata.etag"];

    public static async Task<string> RunAsync(int events)
    {
        var counter = new StorageRequestCounter();
        var bytes = new RequestBodyBytes();
        var sizes = new List<string>();
        await using var preparing = TestSettings.Services(TestSettings.Configuration(Azurite.Unreachable()), (s, c) => s.AddMailgunCore(c), new FakeTimeProvider(WebhookSamples.Now));
        var intake = preparing.GetRequiredService<EventWebhookIntake>();

        static string[] Addresses(string prefix, int count) => Enumerable.Range(0, count).Select(i => $"{prefix}{i}@example.com").ToArray();
        string[] Envelopes(string[] addresses) => addresses.Select(address =>
        {
            using var prepared = intake.Prepare(TestSettings.SingleAccount(preparing), WebhookSamples.FailedWebhook(address));
            return Encoding.UTF8.GetString(prepared.EnvelopeJson.Span);
        }).ToArray();

        string[] warmAddresses = Addresses("warm", WarmRows);
        string[] addresses = Addresses("contact", events);
        var envelopes = Envelopes(addresses);

        async Task<Measured> Measure(RunStorage storage, string run, string entriesTable, string partition, Func<int, Task<bool>> operation)
        {
            var entries = storage.Inspection.GetTableClient(entriesTable);
            long before = await PartitionSizeAsync(entries, partition);
            counter.Reset();
            bytes.Reset();
            var stats = await LoadStats.RunAsync(events, Concurrency, storage.Cpu, operation);
            var measured = new Measured(stats, counter.Requests / (double)events, bytes.Bytes / (double)events);
            sizes.Add($"{run} {before} → {await PartitionSizeAsync(entries, partition)}");
            return measured;
        }

        // The processor, on its own warm Azurite. Its tables are the app's (fixed names), so they hold nothing else: its
        // warm-up events (JIT, table creation, connections) are its starting rows.
        Measured processorRun;
        ProcessorRows written;
        string processorPartition;
        int notProcessed = 0;
        await using (var storage = await RunStorage.StartAsync(counter, bytes))
        {
            var configuration = TestSettings.Configuration(storage.Azurite.ConnectionString, new Dictionary<string, string?> { ["Storage:MaxRetries"] = "2" });
            await using var services = TestSettings.Services(configuration, (s, c) => s.AddMailgunCore(c), TimeProvider.System,
                before: s => s.AddSingleton<HttpPipelinePolicy>(counter).AddSingleton<HttpPipelinePolicy>(bytes));
            var processor = services.GetRequiredService<EventProcessor>();
            string? tenant = null;
            foreach (string envelope in Envelopes(warmAddresses))
            {
                tenant = (await processor.ProcessAsync(envelope, 1, CancellationToken.None)).Tenant;
            }

            processorPartition = DndKeys.TenantKey(tenant ?? throw new InvalidOperationException("the warm-up events named no tenant"));
            processorRun = await Measure(storage, "EventProcessor", StorageNames.DndEntriesTable, processorPartition, async i =>
            {
                var result = await processor.ProcessAsync(envelopes[i], 1, CancellationToken.None);
                if (result.Outcome != EventOutcome.Processed)
                {
                    Interlocked.Increment(ref notProcessed);
                }

                return result.Outcome == EventOutcome.Processed;
            });

            // Read back (uncounted) every row the processor wrote, its warm-up's included, for the floor of the same data.
            written = await ProcessorRows.ReadAsync(storage.Inspection, tenant, warmAddresses, addresses);
        }

        // The goal's floor: the same data as the processor's, written with the fewest requests, from the same 50 rows.
        Measured rowsRun;
        await using (var storage = await RunStorage.StartAsync(counter, bytes))
        {
            var rows = await FloorTables.CreateAsync(storage.Counted, "BenchRows", (tables, i) => RowsEvent(tables, written.Warm[i]));
            rowsRun = await Measure(storage, "floor of the processor's rows", rows.Entries.Name, processorPartition, async i =>
            {
                await RowsEvent(rows, written.Run[i]);
                return true;
            });
        }

        // The same rows with the entry inserted instead of upserted: what the processor's insert-first order sends for a
        // never-seen address. On Azurite an upsert finds the entity twice (insertOrUpdateTableEntity looks it up, then
        // insertTableEntity or updateTableEntity does again), each a scan of the partition, where an insert finds it once;
        // so this, not the upsert floor, is the like-for-like measure of the processor's own overhead.
        Measured rowsInsertRun;
        await using (var storage = await RunStorage.StartAsync(counter, bytes))
        {
            var rows = await FloorTables.CreateAsync(storage.Counted, "BenchRowsInsert", (tables, i) => RowsEvent(tables, written.Warm[i], upsert: false));
            rowsInsertRun = await Measure(storage, "the processor's rows inserted", rows.Entries.Name, processorPartition, async i =>
            {
                await RowsEvent(rows, written.Run[i], upsert: false);
                return true;
            });
        }

        Measured floorRun;
        await using (var storage = await RunStorage.StartAsync(counter, bytes))
        {
            var floor = await FloorTables.CreateAsync(storage.Counted, "BenchFloor", (tables, i) => FloorEvent(tables, warmAddresses[i]));
            floorRun = await Measure(storage, "small-row floor", floor.Entries.Name, FloorPartition, async i =>
            {
                await FloorEvent(floor, addresses[i]);
                return true;
            });
        }

        // The small-row floor plus the point read the processor does before its write (when it reads first): what that costs.
        Measured floorWithReadRun;
        await using (var storage = await RunStorage.StartAsync(counter, bytes))
        {
            var floorWithRead = await FloorTables.CreateAsync(storage.Counted, "BenchFloorRead", (tables, i) => FloorEvent(tables, warmAddresses[i]));
            floorWithReadRun = await Measure(storage, "small-row floor + read", floorWithRead.Entries.Name, FloorPartition, async i =>
            {
                string address = addresses[i];
                await floorWithRead.Entries.GetEntityIfExistsAsync<TableEntity>(FloorPartition, address);
                await FloorEvent(floorWithRead, address);
                return true;
            });
        }

        string Row(string name, Measured m, int failed) =>
            $"| {name} | {m.Run.PerSecond:F0} | {m.Run.PerSecond / rowsRun.Run.PerSecond:F2} | {m.Run.PerSecond / floorRun.Run.PerSecond:F2} | {m.Run.Percentile(50):F1} | {m.Run.Percentile(99):F1} | {m.Requests:F2} | {m.Bytes:F0} | {failed} | {m.Run.CpuCells} |";
        string AzuritePerRequest(string name, Measured m) =>
            $"{name} {m.Run.Cpu.Azurite.TotalMilliseconds / (m.Requests * events):F2}";
        return new StringBuilder()
            .AppendLine($"{events} distinct hard bounces, {Concurrency} concurrent messages (the queue trigger's batch size).")
            .AppendLine()
            .AppendLine($"| | Events/s | Ratio (goal ≥ 0.7) | Ratio to the small-row floor | p50 ms | p99 ms | Storage requests per event | Request body bytes per event | Not processed | {LoadStats.CpuHeaders} |")
            .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            .AppendLine(Row("EventProcessor", processorRun, notProcessed))
            .AppendLine(Row("floor: the processor's own rows, raw history insert + DND upsert", rowsRun, 0))
            .AppendLine(Row("for comparison: the processor's own rows, raw history insert + entry insert (what insert-first sends)", rowsInsertRun, 0))
            .AppendLine(Row("for comparison: floor with small hand-made rows", floorRun, 0))
            .AppendLine(Row("for comparison: floor + the point read before the write (small hand-made rows)", floorWithReadRun, 0))
            .AppendLine()
            .AppendLine("Ratio (goal ≥ 0.7) = events/s over those of the floor of the processor's own rows (the same rows, written with the fewest requests); the next column divides by the small-row floor's instead.")
            .AppendLine($"{written.Summary}")
            .AppendLine($"Azurite CPU ms per storage request: {AzuritePerRequest("EventProcessor", processorRun)}; {AzuritePerRequest("floor of its rows", rowsRun)}; {AzuritePerRequest("its rows inserted", rowsInsertRun)}; {AzuritePerRequest("small-row floor", floorRun)}; {AzuritePerRequest("small-row floor + read", floorWithReadRun)}.")
            .AppendLine($"Rows in the DND entries partition every point operation scans, at the start → end of each run (each run on its own fresh, warmed Azurite): {string.Join("; ", sizes)}.")
            .ToString();
    }

    private sealed record Measured(LoadStats Run, double Requests, double Bytes);

    /// <summary>
    /// One run's own Azurite, started fresh and warmed the same way for every run. Azurite gets slower as it holds more
    /// (its store lives in the node heap) and its first thousands of requests cost it about twice the CPU of later ones,
    /// so runs sharing one instance were biased by their order: in one full run the processor, measured first, reached
    /// twice the speed of the floors measured after it on the same instance. A throwaway load (16 at a time; a point
    /// read, an insert and an upsert of small rows on tables of its own, measured by nothing) warms each instance.
    /// </summary>
    private sealed class RunStorage : IAsyncDisposable
    {
        private RunStorage(Azurite azurite, TableServiceClient counted)
        {
            Azurite = azurite;
            Counted = counted;
            Inspection = new TableServiceClient(azurite.ConnectionString);
            Cpu = new CpuProfile(azurite);
        }

        public Azurite Azurite { get; }

        /// <summary>Counts its requests and request bytes (for the floors' own writes).</summary>
        public TableServiceClient Counted { get; }

        /// <summary>Uncounted, so looking at partition sizes and reading rows back adds nothing to a run's figures.</summary>
        public TableServiceClient Inspection { get; }

        public CpuProfile Cpu { get; }

        public static async Task<RunStorage> StartAsync(StorageRequestCounter counter, RequestBodyBytes bytes)
        {
            var azurite = await Azurite.StartDedicatedAsync(persistent: false);
            var options = new TableClientOptions();
            options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
            options.AddPolicy(bytes, HttpPipelinePosition.PerRetry);
            var storage = new RunStorage(azurite, new TableServiceClient(azurite.ConnectionString, options));
            var warmUp = await FloorTables.CreateAsync(storage.Inspection, "BenchWarmUp", (_, _) => Task.CompletedTask);
            await LoadStats.RunAsync(AzuriteWarmUpEvents, Concurrency, storage.Cpu, async i =>
            {
                string address = $"azurite-warm-up{i}@example.com";
                await warmUp.Entries.GetEntityIfExistsAsync<TableEntity>(FloorPartition, address);
                await FloorEvent(warmUp, address);
                return true;
            });
            return storage;
        }

        public ValueTask DisposeAsync() => Azurite.DisposeAsync();
    }

    /// <summary>A floor run's own entries and history tables, warmed with the rows every run starts from.</summary>
    private sealed record FloorTables(TableClient Entries, TableClient History)
    {
        public static async Task<FloorTables> CreateAsync(TableServiceClient service, string prefix, Func<FloorTables, int, Task> warmEvent)
        {
            var tables = new FloorTables(service.GetTableClient(prefix + "Entries"), service.GetTableClient(prefix + "History"));
            await tables.Entries.CreateIfNotExistsAsync();
            await tables.History.CreateIfNotExistsAsync();
            for (int i = 0; i < WarmRows; i++)
            {
                await warmEvent(tables, i);
            }

            return tables;
        }
    }

    /// <summary>The rows the processor wrote for one event: its DND entry and its history record(s).</summary>
    private sealed record EventRows(TableEntity? Entry, TableEntity[] History);

    /// <summary>What the processor wrote, per event, for its warm-up and for its run (read after the run).</summary>
    private sealed record ProcessorRows(EventRows[] Warm, EventRows[] Run, string Summary)
    {
        public static async Task<ProcessorRows> ReadAsync(TableServiceClient service, string tenant, string[] warmAddresses, string[] runAddresses)
        {
            string partition = DndKeys.TenantKey(tenant);
            var entries = new Dictionary<string, TableEntity>(StringComparer.Ordinal);
            await foreach (var e in service.GetTableClient(StorageNames.DndEntriesTable).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}")))
            {
                entries[e.RowKey] = Stored(e);
            }

            var history = service.GetTableClient(StorageNames.DndHistoryTable);
            async Task<EventRows[]> Rows(string[] addresses)
            {
                var rows = new EventRows[addresses.Length];
                await Parallel.ForEachAsync(Enumerable.Range(0, addresses.Length), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
                {
                    var records = new List<TableEntity>();
                    string historyPartition = DndKeys.HistoryPartition(tenant, addresses[i]);
                    await foreach (var h in history.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {historyPartition}"), cancellationToken: ct))
                    {
                        records.Add(Stored(h));
                    }

                    // Oldest first (history RowKeys sort newest first), the order the processor inserted them in.
                    records.Reverse();
                    rows[i] = new EventRows(entries.GetValueOrDefault(DndKeys.AddressKey(addresses[i])), [.. records]);
                });
                return rows;
            }

            var warm = await Rows(warmAddresses);
            var run = await Rows(runAddresses);
            int others = entries.Count - warm.Concat(run).Count(r => r.Entry is not null);
            string PerEvent(Func<EventRows, double> count) => run.Average(count).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
            string summary = $"The floor of the processor's rows writes, per event, what the processor wrote for it in its run: {PerEvent(r => r.Entry is null ? 0 : 1)} entry rows "
                + $"of {PerEvent(r => r.Entry?.Count ?? 0)} properties and {PerEvent(r => r.History.Length)} history rows of {PerEvent(r => r.History.Sum(h => h.Count))} properties "
                + $"(keys included; storage Timestamp and ETag dropped); small hand-made rows: 1 entry of 7 and 1 history row of 10 properties. "
                + $"Rows of the partition written for no event of the run or its warm-up: {others}.";
            return new ProcessorRows(warm, run, summary);
        }

        private static TableEntity Stored(TableEntity row)
        {
            foreach (string property in StorageOwnedProperties)
            {
                row.Remove(property);
            }

            return row;
        }
    }

    /// <summary>The processor's rows of one event, raw: its history record(s) inserted (a 409 for a duplicate), then the entry upserted.</summary>
    private static async Task RowsEvent(FloorTables tables, EventRows rows, bool upsert = true)
    {
        foreach (var record in rows.History)
        {
            await tables.History.AddEntityAsync(record);
        }

        if (rows.Entry is { } entry)
        {
            await (upsert ? tables.Entries.UpsertEntityAsync(entry, TableUpdateMode.Replace) : tables.Entries.AddEntityAsync(entry));
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

    /// <summary>
    /// The small-row floor: the two writes any processor must do per event, its history record (insert, a 409 for a
    /// duplicate) and the entry, with hand-made rows smaller than the processor's.
    /// </summary>
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

    /// <summary>Sums the request body bytes that leave a client (one per attempt): how big the rows written were.</summary>
    private sealed class RequestBodyBytes : HttpPipelinePolicy
    {
        private long _bytes;

        public long Bytes => Interlocked.Read(ref _bytes);

        public void Reset() => Interlocked.Exchange(ref _bytes, 0);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Count(message);
            ProcessNext(message, pipeline);
        }

        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Count(message);
            return ProcessNextAsync(message, pipeline);
        }

        private void Count(HttpMessage message)
        {
            if (message.Request.Content is { } content && content.TryComputeLength(out long length))
            {
                Interlocked.Add(ref _bytes, length);
            }
        }
    }
}
