using System.Net;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using MailgunFunctions.App;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Testing;
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
/// same concurrency, in the same run. A second comparison, "floor + token claim", adds the raw insert of the app's
/// token claim row before the send: the least a webhook that must reject replayed tokens can do (2 storage requests).
/// Every row has its CPU profile, split between this process and Azurite.
/// </summary>
public static class IngestionLoad
{
    // Unmeasured token inserts and queue sends before the first measured run.
    private const int AzuriteWarmUpEvents = 3000;

    public static async Task<string> RunAsync(int requestsPerLevel)
    {
        await using var azurite = await Azurite.StartDedicatedAsync(persistent: false);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddMailgunFunctions(TestSettings.Configuration(azurite.ConnectionString, new Dictionary<string, string?> { ["Storage:MaxRetries"] = "2" }));
        await using var app = builder.Build();
        var webhook = ActivatorUtilities.CreateInstance<EventsWebhook>(app.Services);
        app.MapPost("/api/mailgun/events", async (HttpContext context) =>
            await FunctionResponses.WriteAsync(context, await webhook.RunAsync(context.Request, context.RequestAborted)));
        await app.StartAsync();
        string url = app.Urls.First() + "/api/mailgun/events";

        var intake = app.Services.GetRequiredService<EventWebhookIntake>();
        var floorQueue = new QueueClient(azurite.ConnectionString, "bench-floor", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await floorQueue.CreateIfNotExistsAsync();
        // Its own table, so the webhook's WebhookTokens rows and these never meet; each claim is its own partition in both.
        var floorTokens = new TableClient(azurite.ConnectionString, "BenchFloorTokens");
        await floorTokens.CreateIfNotExistsAsync();
        var cpu = new CpuProfile(azurite);

        var report = new StringBuilder();
        report.AppendLine($"| Senders | | Events/s | Ratio to floor (webhook goal ≥ 0.8) | p50 ms | p99 ms | Failed (webhook: non-200) | {LoadStats.CpuHeaders} |");
        report.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });

        // Warm up all paths (JIT, connections, table and queue creation), then Azurite itself: its first few thousand
        // requests cost it about twice the CPU of later ones, which would otherwise slow whichever run comes first.
        await SendWebhooks(http, url, Bodies(50), 4, cpu);
        var warm = Bodies(AzuriteWarmUpEvents).Select(b => ClaimAndEnvelope(intake, b)).ToArray();
        await LoadStats.RunAsync(warm.Length, 16, cpu, async i =>
        {
            await FloorWithClaim(floorTokens, floorQueue, warm[i].Claim, warm[i].Envelope);
            return true;
        });

        foreach (int senders in new[] { 1, 8, 64 })
        {
            var envelopes = Bodies(requestsPerLevel).Select(b => ClaimAndEnvelope(intake, b).Envelope).ToArray();
            var floor = await LoadStats.RunAsync(envelopes.Length, senders, cpu, async i => { await floorQueue.SendMessageAsync(envelopes[i]); return true; });
            var claimed = Bodies(requestsPerLevel).Select(b => ClaimAndEnvelope(intake, b)).ToArray();
            var floorWithClaim = await LoadStats.RunAsync(claimed.Length, senders, cpu, async i =>
            {
                await FloorWithClaim(floorTokens, floorQueue, claimed[i].Claim, claimed[i].Envelope);
                return true;
            });
            var webhookRun = await SendWebhooks(http, url, Bodies(requestsPerLevel), senders, cpu);

            void Row(string name, LoadStats run) => report.AppendLine(
                $"| {senders} | {name} | {run.PerSecond:F0} | {run.PerSecond / floor.PerSecond:F2} | {run.Percentile(50):F1} | {run.Percentile(99):F1} | {run.Failures} | {run.CpuCells} |");
            Row("events webhook over HTTP", webhookRun);
            Row("floor: raw queue send", floor);
            Row("floor + token claim", floorWithClaim);
            Console.WriteLine($"ingestion: {senders} senders done");
        }

        await app.StopAsync();
        return report.ToString();
    }

    /// <summary>The app's token claim (ReplayGuard's row, same keys and properties) and the envelope of one body, built before a run as the floor's envelopes are.</summary>
    private static (TableEntity Claim, BinaryData Envelope) ClaimAndEnvelope(EventWebhookIntake intake, byte[] body)
    {
        using var prepared = intake.Prepare(body);
        var header = prepared.Header ?? throw new InvalidOperationException($"the sample webhook was rejected: {prepared.Rejection}");
        var claim = new TableEntity(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(header.Token))), "")
        {
            ["BodySha256"] = header.BodySha256,
            ["EventId"] = header.EventId,
            ["State"] = "reserved",
            ["FirstSeenAt"] = header.ReceivedAt,
        };
        return (claim, new BinaryData(prepared.EnvelopeJson.ToArray()));
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

    private static byte[][] Bodies(int count)
    {
        var now = DateTimeOffset.UtcNow;
        return Enumerable.Range(0, count).Select(i => WebhookSamples.FailedWebhook($"contact{i}@example.com", now)).ToArray();
    }
}
