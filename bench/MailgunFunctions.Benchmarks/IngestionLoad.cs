using System.Net;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using MailgunFunctions.App;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Testing;
using MailgunFunctions.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// Harness 2: the events webhook served over real HTTP (Kestrel hosting the function class) against Azurite, at
/// 1, 8 and 64 concurrent senders; the floor is raw QueueClient.SendMessageAsync of the same envelopes at the
/// same concurrency, in the same run (each row on its own fresh, warmed Azurite). A second comparison, "floor + token claim", adds the raw insert of the app's
/// token claim row before the send: the least a webhook that must reject replayed tokens can do (2 storage requests).
/// Every row has its CPU profile, split between this process and Azurite.
/// </summary>
public static class IngestionLoad
{
    // Unmeasured token inserts and queue sends that warm each run's Azurite before it is measured.
    private const int AzuriteWarmUpEvents = 3000;

    public static async Task<string> RunAsync(int requestsPerLevel)
    {
        // Envelopes are built by the app's own intake, without storage.
        await using var preparing = TestSettings.Services(TestSettings.Configuration(Azurite.Unreachable()), (s, c) => s.AddMailgunFunctions(c), TimeProvider.System);
        var intake = preparing.GetRequiredService<EventWebhookIntake>();
        var tenant = TestSettings.SingleAccount(preparing);
        var report = new StringBuilder();
        report.AppendLine($"| Senders | | Events/s | Ratio to floor (webhook goal ≥ 0.8) | p50 ms | p99 ms | Storage requests per event | Failed (webhook: non-200) | {LoadStats.CpuHeaders} |");
        report.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        // Counts every storage request of the measured runs (the app's clients take it from DI, the floors' from options).
        var counter = new StorageRequestCounter();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });

        foreach (int senders in new[] { 1, 8, 64 })
        {
            LoadStats floor;
            double floorRequests;
            await using (var azurite = await StartWarmAsync(intake, tenant))
            {
                var queue = await QueueAsync(azurite, "bench-floor", counter);
                var envelopes = Bodies(requestsPerLevel).Select(b => ClaimAndEnvelope(intake, tenant, b).Envelope).ToArray();
                counter.Reset();
                floor = await LoadStats.RunAsync(envelopes.Length, senders, new CpuProfile(azurite), async i => { await queue.SendMessageAsync(envelopes[i]); return true; });
                floorRequests = counter.Requests / (double)requestsPerLevel;
            }

            LoadStats floorWithClaim;
            double floorWithClaimRequests;
            await using (var azurite = await StartWarmAsync(intake, tenant))
            {
                var queue = await QueueAsync(azurite, "bench-floor", counter);
                // Its own table; each claim is its own partition, as in the app's WebhookTokens.
                var tableOptions = new TableClientOptions();
                tableOptions.AddPolicy(counter, HttpPipelinePosition.PerRetry);
                var tokens = new TableClient(azurite.ConnectionString, "BenchFloorTokens", tableOptions);
                await tokens.CreateIfNotExistsAsync();
                var claimed = Bodies(requestsPerLevel).Select(b => ClaimAndEnvelope(intake, tenant, b)).ToArray();
                counter.Reset();
                floorWithClaim = await LoadStats.RunAsync(claimed.Length, senders, new CpuProfile(azurite), async i =>
                {
                    await FloorWithClaim(tokens, queue, claimed[i].Claim, claimed[i].Envelope);
                    return true;
                });
                floorWithClaimRequests = counter.Requests / (double)requestsPerLevel;
            }

            LoadStats webhookRun;
            double webhookRequests;
            await using (var azurite = await StartWarmAsync(intake, tenant))
            {
                await using var app = BuildApp(azurite, counter);
                var webhook = ActivatorUtilities.CreateInstance<EventsWebhook>(app.Services);
                app.MapPost("/api/mailgun/events", async (HttpContext context) =>
                    await FunctionResponses.WriteAsync(context, await webhook.RunAsync(context.Request, context.RequestAborted)));
                await app.StartAsync();
                string url = app.Urls.First() + "/api/mailgun/events";
                var cpu = new CpuProfile(azurite);
                // The app's first requests: JIT, connections, table and queue creation.
                await SendWebhooks(http, url, Bodies(50), 4, cpu);
                counter.Reset();
                webhookRun = await SendWebhooks(http, url, Bodies(requestsPerLevel), senders, cpu);
                webhookRequests = counter.Requests / (double)requestsPerLevel;
                await app.StopAsync();
            }

            // The same webhook with 10,000 tenants in the registry: each event posted to its tenant's URL and signed with
            // that tenant's key, spread over every tenant. The instance has seen each tenant once before the measured run
            // (as a busy instance has), so the row shows the cost of per-tenant keys and lookups in steady state; the storage
            // requests per event column shows any registry read the cache did not save.
            LoadStats tenantRun;
            double tenantRequests;
            await using (var azurite = await StartWarmAsync(intake, tenant))
            {
                await using var app = BuildApp(azurite, counter);
                var tenants = await RegisterTenantsAsync(app.Services, RegisteredTenants);
                var webhook = ActivatorUtilities.CreateInstance<EventsWebhook>(app.Services);
                app.MapPost("/api/mailgun/{tenant}/events", async (HttpContext context, string tenant) =>
                    await FunctionResponses.WriteAsync(context, await webhook.RunForTenantAsync(context.Request, tenant, context.RequestAborted)));
                await app.StartAsync();
                string baseUrl = app.Urls.First() + "/api/mailgun/";
                var cpu = new CpuProfile(azurite);
                await SendTenantWebhooks(http, baseUrl, TenantBodies(tenants, tenants.Length, offset: 0), 16, cpu);
                counter.Reset();
                tenantRun = await SendTenantWebhooks(http, baseUrl, TenantBodies(tenants, requestsPerLevel, offset: senders * 7919), senders, cpu);
                tenantRequests = counter.Requests / (double)requestsPerLevel;
                await app.StopAsync();
            }

            void Row(string name, LoadStats run, double requests) => report.AppendLine(
                $"| {senders} | {name} | {run.PerSecond:F0} | {run.PerSecond / floor.PerSecond:F2} | {run.Percentile(50):F1} | {run.Percentile(99):F1} | {requests:F2} | {run.Failures} | {run.CpuCells} |");
            Row("events webhook over HTTP", webhookRun, webhookRequests);
            Row($"events webhook over HTTP, {RegisteredTenants:N0} tenants registered (tenant URLs and keys)", tenantRun, tenantRequests);
            Row("floor: raw queue send", floor, floorRequests);
            Row("floor + token claim", floorWithClaim, floorWithClaimRequests);
            Console.WriteLine($"ingestion: {senders} senders done");
        }

        report.AppendLine().AppendLine("Each row ran on its own freshly started Azurite, warmed first by "
            + $"{AzuriteWarmUpEvents} unmeasured token inserts and queue sends (16 at a time) on a table and queue of its own.")
            .AppendLine().AppendLine($"The tenants row registers {RegisteredTenants:N0} tenants (each with its own sealed signing key and domain) in its Azurite "
            + "before it is measured, sends one unmeasured event per tenant (each tenant is then in the instance's cache, as on a busy instance), "
            + "then posts the measured events to their tenants' URLs, spread over every tenant, each signed with its tenant's key.");
        return report.ToString();
    }

    /// <summary>
    /// A fresh Azurite for one run, warmed: its first few thousand requests cost it about twice the CPU of later ones,
    /// and it slows as it holds more, so runs sharing one instance would be biased by their order.
    /// </summary>
    private static async Task<Azurite> StartWarmAsync(EventWebhookIntake intake, MailgunFunctions.Tenants.ResolvedTenant tenant)
    {
        var azurite = await Azurite.StartDedicatedAsync(persistent: false);
        var queue = await QueueAsync(azurite, "bench-warm-up", counter: null);
        var tokens = new TableClient(azurite.ConnectionString, "BenchWarmUpTokens");
        await tokens.CreateIfNotExistsAsync();
        var warm = Bodies(AzuriteWarmUpEvents).Select(b => ClaimAndEnvelope(intake, tenant, b)).ToArray();
        await LoadStats.RunAsync(warm.Length, 16, new CpuProfile(azurite), async i =>
        {
            await FloorWithClaim(tokens, queue, warm[i].Claim, warm[i].Envelope);
            return true;
        });
        return azurite;
    }

    private static async Task<QueueClient> QueueAsync(Azurite azurite, string name, StorageRequestCounter? counter)
    {
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        if (counter is not null)
        {
            options.AddPolicy(counter, HttpPipelinePosition.PerRetry);
        }

        var queue = new QueueClient(azurite.ConnectionString, name, options);
        await queue.CreateIfNotExistsAsync();
        return queue;
    }

    /// <summary>The app's token claim row (`ReplayGuard.ClaimRow`, the very row a claim inserts) and the envelope of one body, built before a run as the floor's envelopes are.</summary>
    private static (TableEntity Claim, BinaryData Envelope) ClaimAndEnvelope(EventWebhookIntake intake, MailgunFunctions.Tenants.ResolvedTenant tenant, byte[] body)
    {
        using var prepared = intake.Prepare(tenant, body);
        var header = prepared.Header ?? throw new InvalidOperationException($"the sample webhook was rejected: {prepared.Rejection}");
        return (ReplayGuard.ClaimRow(header.Token, header.BodySha256, header.EventId, header.ReceivedAt), new BinaryData(prepared.EnvelopeJson.ToArray()));
    }

    /// <summary>Claim first, then send: a replayed token must be refused before its event can be queued.</summary>
    private static async Task FloorWithClaim(TableClient tokens, QueueClient queue, TableEntity claim, BinaryData envelope)
    {
        await tokens.AddEntityAsync(claim);
        await queue.SendMessageAsync(envelope);
    }

    private static Task<LoadStats> SendWebhooks(HttpClient http, string url, byte[][] bodies, int senders, CpuProfile cpu) =>
        LoadStats.RunAsync(bodies.Length, senders, cpu, async i =>
        {
            using var content = new ByteArrayContent(bodies[i]);
            content.Headers.ContentType = new("application/json");
            using var response = await http.PostAsync(url, content);
            return response.StatusCode == HttpStatusCode.OK;
        });

    private const int RegisteredTenants = 10_000;

    /// <summary>The app's services on Kestrel (loopback, any port), every storage request counted; the registry on (test KEK).</summary>
    private static WebApplication BuildApp(Azurite azurite, StorageRequestCounter counter)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<HttpPipelinePolicy>(counter);
        builder.Services.AddMailgunFunctions(TestSettings.Configuration(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["Storage:MaxRetries"] = "2",
            ["Tenants:KeyEncryptionKeys:k1"] = TestSettings.KeyEncryptionKey,
        }));
        return builder.Build();
    }

    /// <summary>Registers <paramref name="count"/> tenants through the app's registry (16 at a time): ids and signing keys.</summary>
    private static async Task<(string Id, string Key)[]> RegisterTenantsAsync(IServiceProvider services, int count)
    {
        var tenants = Enumerable.Range(0, count).Select(i => ($"loc{i:D6}", $"key-bench-{i:D6}-{Guid.NewGuid():N}")).ToArray();
        await Parallel.ForEachAsync(tenants, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (t, _) =>
            await TestTenants.RegisterAsync(services, t.Item1, t.Item2, [t.Item1 + ".example.com"]));
        Console.WriteLine($"ingestion: {count} tenants registered");
        return tenants;
    }

    /// <summary>Bodies for tenants in turn from <paramref name="offset"/>, with the URL path of each.</summary>
    private static (string Path, byte[] Body)[] TenantBodies((string Id, string Key)[] tenants, int count, int offset)
    {
        var now = DateTimeOffset.UtcNow;
        return Enumerable.Range(0, count).Select(i =>
        {
            var (id, key) = tenants[(offset + i) % tenants.Length];
            return (id + "/events", WebhookSamples.FailedWebhook($"contact{i}@example.com", now, key, id + ".example.com"));
        }).ToArray();
    }

    private static Task<LoadStats> SendTenantWebhooks(HttpClient http, string baseUrl, (string Path, byte[] Body)[] posts, int senders, CpuProfile cpu) =>
        LoadStats.RunAsync(posts.Length, senders, cpu, async i =>
        {
            using var content = new ByteArrayContent(posts[i].Body);
            content.Headers.ContentType = new("application/json");
            using var response = await http.PostAsync(baseUrl + posts[i].Path, content);
            return response.StatusCode == HttpStatusCode.OK;
        });

    private static byte[][] Bodies(int count)
    {
        var now = DateTimeOffset.UtcNow;
        return Enumerable.Range(0, count).Select(i => WebhookSamples.FailedWebhook($"contact{i}@example.com", now)).ToArray();
    }
}
