using System.Globalization;
using System.Text;
using Azure.Core;
using Azure.Data.Tables;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// Harness 10, table partitions (docs/capacity.md, "Spreading one tenant's entries over several partitions"): one tenant's
/// DND entries, each with its change-log and outbox rows, in one partition of <c>DndEntries</c> (B = 1, the product's
/// layout) or spread over B partitions by the first hex digit of the address hash. For each B, on its own fresh Azurite:
/// a bounce storm of new addresses written as the product writes a DND change (one entity-group transaction per address:
/// entry, change row, outbox row, in the address's partition), point reads of entries as processing does, the tenant-wide
/// listing (<c>dnd list</c>: entry rows only, merged in address order), and pages of the change feed (<c>changedSince</c>).
/// Real <see cref="TableClient"/>s, every request counted by a pipeline policy. Azurite throttles no partition, so the
/// storm's capacity in Azure is computed beside the measured figures from Azure's published targets.
/// </summary>
public static class PartitionLoad
{
    private static readonly int[] Layouts = [1, 4, 16];

    private const string Tenant = "storm.example.com";

    // A bounce storm is many processing instances at once; 32 as the other storage harnesses' senders.
    private const int Concurrency = 32;

    // changedSince's page (the platform's usual limit) and how far from the end the "near the end" cursor stands.
    private const int FeedPageSize = 100;
    private const int NearEndChanges = 1_000;

    // Tenant-wide reads are single requests or short sequences: each is timed this often and the median reported.
    private const int ListingRepeats = 3;
    private const int FeedRepeats = 20;

    // Azure's published scalability targets (docs/capacity.md, "Limits"): assumptions, nothing here measures them.
    private const double PartitionEntitiesPerSecond = 2_000;
    private const double AccountRequestsPerSecond = 20_000;

    // The entities one change of a new address puts in its partition: the transaction's entry, change and outbox rows,
    // then the outbox row's delete once the notice is dispatched (bench/RESULTS.md section 7: "DELETE table DndEntries").
    private const int EntitiesPerChange = 4;

    // What one hard bounce costs the account in all (bench/RESULTS.md section 7): processing 7.01, webhook 2.00, trigger 1.06.
    private const double AccountRequestsPerChange = 10.07;

    private const string BounceMessage = "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address.";

    private sealed record Listing(double Requests, double SequentialMs, double ParallelMs, int Entries);

    private sealed record FeedPage(double Requests, double RowsRead, double Ms);

    private sealed record Run(int Partitions, LoadStats Writes, double RequestsPerWrite, LoadStats Reads, double RequestsPerRead, Listing Listing, FeedPage NearEnd, FeedPage Start)
    {
        /// <summary>Changes per second one tenant's storm could reach in Azure: its partitions' entity target or the account's request target, whichever is lower.</summary>
        public double StormCeiling => Math.Min(Partitions * PartitionEntitiesPerSecond / EntitiesPerChange, AccountRequestsPerSecond / AccountRequestsPerChange);
    }

    public static async Task<string> RunAsync(int addresses, int reads)
    {
        var runs = new List<Run>();
        foreach (int partitions in Layouts)
        {
            runs.Add(await RunOnceAsync(partitions, addresses, reads));
        }

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"One tenant, {addresses:N0} new addresses written by a bounce storm ({Concurrency} at once), each as the product writes a DND change: one entity-group transaction of the entry (the product's columns for a hard bounce), its `~change|` row and its `~pending|` outbox row, in the address's partition. B = 1 is today's layout (PartitionKey = the tenant's key); with B > 1 the partition is the tenant's key + `|` + the first hex digit of the address's SHA-256 scaled to B. Each B on its own fresh Azurite, warmed first; every request counted by a pipeline policy on real `TableClient`s.").AppendLine();
        text.AppendLine("| Partitions (B) | Storm writes/s (Azurite) | Requests per write | Write p50 / p99 ms | Storm ceiling in Azure, changes/s (computed) | Point reads/s (Azurite) | Requests per read |");
        text.AppendLine("|---:|---:|---:|---|---:|---:|---:|");
        foreach (var run in runs)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {run.Partitions} | {run.Writes.PerSecond:F0} | {run.RequestsPerWrite:F2} | {run.Writes.Percentile(50):F1} / {run.Writes.Percentile(99):F1} | {run.StormCeiling:N0} | {run.Reads.PerSecond:F0} | {run.RequestsPerRead:F2} |");
        }

        text.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"Storm ceiling = min(B × {PartitionEntitiesPerSecond:N0} entities/s per partition ÷ {EntitiesPerChange} entities per change (the transaction's 3 rows and the outbox row's delete), {AccountRequestsPerSecond:N0} requests/s per account ÷ {AccountRequestsPerChange} requests per hard bounce in all (section 7)): Azure's published targets, not measured. The events queue's 2,000 messages/s (section 7) caps an account's changes at about the same rate as its requests do.").AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"Tenant-wide reads after the storm: the listing (`dnd list`: the product's three entry key ranges per partition, log rows skipped, pages of up to 1,000 entities; B > 1 merged in address order), median of {ListingRepeats}; a change-feed page (`changedSince`, {FeedPageSize} changes in commit order: one range query of up to {FeedPageSize} rows per partition, in parallel, merged by row key), median of {FeedRepeats}, with the cursor {NearEndChanges:N0} changes before the end and at the start of the log.").AppendLine();
        text.AppendLine("| Partitions (B) | Listing: requests | Listing ms: sequential | Listing ms: B queries in parallel | Entries listed | Feed page near the end: requests / rows read / ms | Feed page at the start: requests / rows read / ms |");
        text.AppendLine("|---:|---:|---:|---:|---:|---|---|");
        foreach (var run in runs)
        {
            string parallel = run.Partitions == 1 ? "(one partition)" : run.Listing.ParallelMs.ToString("F0", CultureInfo.InvariantCulture);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {run.Partitions} | {run.Listing.Requests:F0} | {run.Listing.SequentialMs:F0} | {parallel} | {run.Listing.Entries:N0} | {run.NearEnd.Requests:F0} / {run.NearEnd.RowsRead:F0} / {run.NearEnd.Ms:F1} | {run.Start.Requests:F0} / {run.Start.RowsRead:F0} / {run.Start.Ms:F1} |");
        }

        return text.ToString();
    }

    /// <summary>
    /// The partition of an address when a tenant's entries are spread over <paramref name="partitions"/> (1, 2, 4, 8 or 16):
    /// the tenant's key alone for 1 (today's layout), else the key, '|' and a bucket from the first hex digit of the address
    /// hash. '|' is encoded in every tenant key (DndKeys), so a bucket partition never meets another tenant's.
    /// </summary>
    private static string PartitionOf(string tenantKey, string address, int partitions) =>
        partitions == 1 ? tenantKey : Bucket(tenantKey, Convert.ToInt32(DndNotice.HashOf(address)[..1], 16) * partitions / 16);

    private static string Bucket(string tenantKey, int bucket) => tenantKey + "|" + bucket.ToString("x", CultureInfo.InvariantCulture);

    private static string[] PartitionsOf(string tenantKey, int partitions) =>
        partitions == 1 ? [tenantKey] : Enumerable.Range(0, partitions).Select(b => Bucket(tenantKey, b)).ToArray();

    private static async Task<Run> RunOnceAsync(int partitions, int count, int reads)
    {
        await using var azurite = await Azurite.StartDedicatedAsync(persistent: false);
        var counter = new StorageRequestCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        var service = new TableServiceClient(azurite.ConnectionString, options);
        var cpu = new CpuProfile(azurite);
        string tenantKey = DndKeys.TenantKey(Tenant);
        string[] addresses = Enumerable.Range(0, count).Select(i => $"contact{i}@example.net").ToArray();

        // Azurite's first thousands of requests cost it more than later ones (section 2): warm it on a table of its own.
        var warmUp = service.GetTableClient("PartitionsWarmUp");
        await warmUp.CreateIfNotExistsAsync();
        int warmCount = Math.Min(1_000, count / 5);
        await LoadStats.RunAsync(warmCount, Concurrency, cpu, async i =>
        {
            await WriteChangeAsync(warmUp, tenantKey, $"warm{i}@example.net", partitions);
            return true;
        });

        var table = service.GetTableClient(StorageNames.DndEntriesTable);
        await table.CreateIfNotExistsAsync();

        // 1. The storm. Each change's row key is kept for the feed's checks.
        var changeKeys = new string[count];
        counter.Reset();
        var writes = await LoadStats.RunAsync(count, Concurrency, cpu, async i =>
        {
            changeKeys[i] = await WriteChangeAsync(table, tenantKey, addresses[i], partitions);
            return true;
        });
        double requestsPerWrite = counter.Requests / (double)count;
        Console.Error.WriteLine($"partitions B = {partitions}: {count} changes written in {writes.Elapsed.TotalSeconds:F1} s");

        // 2. Point reads, as processing reads an address's entry: its partition follows from the address, so one request.
        var random = new Random(10);
        int[] picks = Enumerable.Range(0, reads).Select(_ => random.Next(count)).ToArray();
        counter.Reset();
        var pointReads = await LoadStats.RunAsync(reads, Concurrency, cpu, async i =>
        {
            string address = addresses[picks[i]];
            var entry = await table.GetEntityIfExistsAsync<TableEntity>(PartitionOf(tenantKey, address, partitions), DndKeys.AddressKey(address));
            return entry.HasValue;
        });
        double requestsPerRead = counter.Requests / (double)reads;

        // 3. The tenant-wide listing, checked against the addresses written.
        string[] expectedEntries = addresses.Select(DndKeys.AddressKey).Order(StringComparer.Ordinal).ToArray();
        string[] tenantPartitions = PartitionsOf(tenantKey, partitions);
        counter.Reset();
        double sequentialMs = await MedianMsAsync(ListingRepeats, () => ListAsync(table, tenantPartitions, parallel: false, expectedEntries));
        double listingRequests = counter.Requests / (double)ListingRepeats;
        double parallelMs = partitions == 1 ? sequentialMs : await MedianMsAsync(ListingRepeats, () => ListAsync(table, tenantPartitions, parallel: true, expectedEntries));

        // 4. Change-feed pages, checked against the change rows written, in commit (row key) order.
        string[] expectedChanges = changeKeys.Order(StringComparer.Ordinal).ToArray();
        int nearEnd = Math.Max(0, count - NearEndChanges);
        var feedNearEnd = await FeedAsync(table, tenantPartitions, counter, expectedChanges, nearEnd);
        var feedStart = await FeedAsync(table, tenantPartitions, counter, expectedChanges, 0);

        return new Run(partitions, writes, requestsPerWrite, pointReads, requestsPerRead,
            new Listing(listingRequests, sequentialMs, parallelMs, expectedEntries.Length), feedNearEnd, feedStart);
    }

    /// <summary>
    /// One DND change of a new address, as the store writes it: the entry inserted (insert-first, the storm case) with its
    /// change and outbox rows in one entity-group transaction, all in the address's partition. Returns the change row's key.
    /// </summary>
    private static async Task<string> WriteChangeAsync(TableClient table, string tenantKey, string address, int partitions)
    {
        var recordedAt = DateTimeOffset.UtcNow;
        var at = recordedAt.AddSeconds(-3);
        string hash = DndNotice.HashOf(address);
        string eventId = "ev-" + hash[..20];
        string key = "mailgun-event|" + eventId;
        string permanent = DndNames.Of(DndState.Permanent);
        var notice = new DndNotice
        {
            Id = DndNotice.IdOf(Tenant, hash, 1),
            Tenant = Tenant,
            Address = address,
            AddressHash = hash,
            ContactId = "c-" + hash[..16],
            Version = 1,
            Previous = DndNoticeState.Of(DndStatus.None),
            Current = DndNoticeState.Of(new DndStatus(DndState.Permanent, at, null, "enhanced-5.1.x")),
            Change = new DndNoticeChange("permanent-cause", "enhanced-5.1.x", "hard-bounce", 550, "5.1.1", BounceMessage, "The mailbox does not exist (5.1.1)."),
            Source = new DndNoticeSource("webhook-event", eventId, "failed", Reference: key),
            At = at,
            RecordedAt = recordedAt,
        };
        string changeRow = DndChangeLog.ChangeRowKey(recordedAt, hash, 1);
        var entry = new TableEntity(PartitionOf(tenantKey, address, partitions), DndKeys.AddressKey(address))
        {
            ["Tenant"] = Tenant,
            ["Address"] = address,
            ["State"] = permanent,
            ["StateSince"] = at,
            ["StateReason"] = "enhanced-5.1.x",
            ["EvaluatedAt"] = recordedAt,
            ["PermanentAt"] = at,
            ["PermanentKey"] = key,
            ["PermanentLabel"] = "enhanced-5.1.x",
            ["PermanentDetail"] = "hard-bounce",
            ["LastEventAt"] = at,
            ["LastEventKey"] = key,
            ["LastEventLabel"] = "failed",
            ["LastEventDetail"] = eventId,
            ["ContactId"] = notice.ContactId,
        };
        DndChangeLog.Stamp(entry, 1, changeRow);
        // SubmitAsync refuses a transaction across partitions, as Azure would: the spread layout must keep the rows together.
        await DndChangeLog.SubmitAsync(table, DndChangeLog.Transaction(new TableTransactionAction(TableTransactionActionType.Add, entry), [notice]), CancellationToken.None);
        return changeRow;
    }

    /// <summary>
    /// Every entry of the tenant in address order: per partition the product's entry key ranges (log rows never read), the
    /// partitions one after the other or all at once, then merged. Fails when an entry is missing or out of order.
    /// </summary>
    private static async Task ListAsync(TableClient table, string[] partitions, bool parallel, string[] expected)
    {
        async Task<List<TableEntity>> ReadPartition(string partition)
        {
            var rows = new List<TableEntity>();
            foreach (string filter in DndChangeLog.EntryRangeFilters(partition))
            {
                await foreach (var e in table.QueryAsync<TableEntity>(filter))
                {
                    rows.Add(e);
                }
            }

            return rows;
        }

        List<TableEntity>[] perPartition;
        if (parallel)
        {
            perPartition = await Task.WhenAll(partitions.Select(ReadPartition));
        }
        else
        {
            perPartition = new List<TableEntity>[partitions.Length];
            for (int p = 0; p < partitions.Length; p++)
            {
                perPartition[p] = await ReadPartition(partitions[p]);
            }
        }

        string[] listed = Merge(perPartition).Select(e => e.RowKey).ToArray();
        if (!listed.SequenceEqual(expected, StringComparer.Ordinal))
        {
            throw new InvalidOperationException($"the listing over {partitions.Length} partitions gave {listed.Length} entries, not the {expected.Length} written in address order");
        }
    }

    /// <summary>
    /// One change-feed page of <see cref="FeedPageSize"/> changes after the change at <paramref name="startIndex"/> in commit
    /// order (the start of the log for 0), read <see cref="FeedRepeats"/> times: requests, rows read and the median time per page.
    /// </summary>
    private static async Task<FeedPage> FeedAsync(TableClient table, string[] partitions, StorageRequestCounter counter, string[] expected, int startIndex)
    {
        string startAfter = startIndex == 0 ? DndChangeLog.ChangePrefix : expected[startIndex - 1];
        string end = DndChangeLog.ChangeRowKeyAt(DateTimeOffset.UtcNow.AddMinutes(1));
        string[] want = expected.Skip(startIndex).Take(FeedPageSize).ToArray();
        long rowsRead = 0;
        counter.Reset();
        double ms = await MedianMsAsync(FeedRepeats, async () =>
        {
            // A partition can hold all of the next page, so each is asked for a whole page: B queries of up to 100 rows.
            var perPartition = await Task.WhenAll(partitions.Select(async partition =>
            {
                var rows = new List<TableEntity>(FeedPageSize);
                await foreach (var row in table.QueryAsync<TableEntity>(DndChangeLog.ChangesFilter(partition, startAfter, end), maxPerPage: FeedPageSize, select: ["RowKey", "Notice"]))
                {
                    rows.Add(row);
                    if (rows.Count == FeedPageSize)
                    {
                        break;
                    }
                }

                return rows;
            }));
            Interlocked.Add(ref rowsRead, perPartition.Sum(r => r.Count));
            var page = Merge(perPartition).Take(FeedPageSize).ToList();
            // Parsed as the feed does, so the time includes what the platform's page costs us.
            var notices = page.Select(row => DndNotice.FromJson(row.GetString("Notice"))).ToList();
            if (!page.Select(row => row.RowKey).SequenceEqual(want, StringComparer.Ordinal) || notices.Count != want.Length)
            {
                throw new InvalidOperationException($"the feed page after change {startIndex} over {partitions.Length} partitions is not the next {want.Length} changes in commit order");
            }
        });
        return new FeedPage(counter.Requests / (double)FeedRepeats, rowsRead / (double)FeedRepeats, ms);
    }

    // Each partition's rows come sorted by row key; for the sizes here an ordinal sort of all of them costs microseconds
    // against the requests, where a streaming listing would use a k-way merge instead.
    private static IEnumerable<TableEntity> Merge(IEnumerable<List<TableEntity>> perPartition) =>
        perPartition.SelectMany(rows => rows).OrderBy(row => row.RowKey, StringComparer.Ordinal);

    private static async Task<double> MedianMsAsync(int repeats, Func<Task> read)
    {
        var ms = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            await read();
            ms[r] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(ms);
        return ms[repeats / 2];
    }
}
