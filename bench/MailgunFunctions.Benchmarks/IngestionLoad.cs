using System.Net;
using System.Text;
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
/// same concurrency, in the same run. Every row has its CPU profile, split between this process and Azurite.
/// </summary>
public static class IngestionLoad
{
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
        var cpu = new CpuProfile(azurite);

        var report = new StringBuilder();
        report.AppendLine($"| Senders | | Events/s | Ratio to floor (webhook goal ≥ 0.8) | p50 ms | p99 ms | Failed (webhook: non-200) | {LoadStats.CpuHeaders} |");
        report.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });

        // Warm up both paths (JIT, connections, table and queue creation).
        await SendWebhooks(http, url, Bodies(50), 4, cpu);

        foreach (int senders in new[] { 1, 8, 64 })
        {
            var envelopes = Bodies(requestsPerLevel).Select(b => { using var p = intake.Prepare(b); return new BinaryData(p.EnvelopeJson.ToArray()); }).ToArray();
            var floor = await LoadStats.RunAsync(envelopes.Length, senders, cpu, async i => { await floorQueue.SendMessageAsync(envelopes[i]); return true; });
            var webhookRun = await SendWebhooks(http, url, Bodies(requestsPerLevel), senders, cpu);

            void Row(string name, LoadStats run) => report.AppendLine(
                $"| {senders} | {name} | {run.PerSecond:F0} | {run.PerSecond / floor.PerSecond:F2} | {run.Percentile(50):F1} | {run.Percentile(99):F1} | {run.Failures} | {run.CpuCells} |");
            Row("webhook (claim, send, mark queued)", webhookRun);
            Row("floor: raw queue send", floor);
            Console.WriteLine($"ingestion: {senders} senders done");
        }

        await app.StopAsync();
        return report.ToString();
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
