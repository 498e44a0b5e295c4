using System.Net;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using MailgunFunctions.App;
using MailgunFunctions.Dnd;
using MailgunFunctions.Export;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Reliability;

/// <summary>
/// The nightly export as the host runs it (the timer's fan-out, then one job per tenant and domain from the job queue)
/// for tenants that each have their own Mailgun API key, signing key and notification secret: one exports and reconciles
/// a complaint (so a notification is signed with its secret and sent), one has its key revoked at Mailgun, one meets
/// Mailgun failing once and succeeds on the redelivery. Each path is asserted to have run as intended (job outcomes, the
/// fake's requests per key, the notice the receiver verified), then no tenant secret appears in any log message, log
/// scope, queue message, table row or blob of the account, in plain text, URL-encoded or base64 (and no API key as the
/// Basic header's base64).
/// </summary>
[Category("Reliability")]
[NonParallelizable]
public class TenantSecretsInExportTests
{
    private sealed record SecretTenant(string Id, string Domain, string ApiKey, string SigningKey, string NotificationSecret, MailgunFake.FakeAccount Account)
    {
        public string Contact => $"contact.{Id}@example.net";
    }

    [Test]
    public async Task Export_fan_out_and_jobs_run_with_tenant_keys_and_no_secret_reaches_logs_or_storage()
    {
        await using var azurite = await Azurite.StartDedicatedAsync(persistent: false);
        await using var mailgun = await MailgunFake.StartAsync(TestSettings.ApiKey);
        await using var receiver = await NotificationReceiver.StartAsync(() => DateTimeOffset.UtcNow);
        var day = DateOnly.FromDateTime(DateTime.UtcNow);
        var logs = new CapturedLogs();
        var settings = new Dictionary<string, string?>
        {
            ["MailgunApi:UsBaseUrl"] = mailgun.BaseUrl.AbsoluteUri,
            ["MailgunApi:EuBaseUrl"] = mailgun.BaseUrl.AbsoluteUri,
            ["MailgunApi:RetryBaseDelay"] = "00:00:00.010",
            ["MailgunApi:MaxRetryDelay"] = "00:00:00.050",
            ["MailgunApi:MaxRetryAttempts"] = "1",
        };
        var services = TestSettings.Services(TestSettings.Configuration(azurite.ConnectionString, settings), (s, c) => s.AddMailgunFunctions(c), TimeProvider.System, logs);

        SecretTenant NewTenant(string name)
        {
            string id = TestTenants.NewId(name);
            string domain = $"mg.{id}.example.com";
            string apiKey = $"key-{id}-api-{Guid.NewGuid():N}", signingKey = TestTenants.NewSigningKey(), secret = $"notify+{Guid.NewGuid():N}/=";
            var t = new SecretTenant(id, domain, apiKey, signingKey, secret, mailgun.AddAccount(apiKey, signingKey, domain));
            mailgun.SetList(domain, "bounces", [new JObject { ["address"] = $"gone.{id}@example.net", ["code"] = "550", ["error"] = "no such user", ["created_at"] = "Fri, 01 Jan 2021 10:00:00 UTC" }]);
            mailgun.SetList(domain, "complaints", [new JObject { ["address"] = t.Contact, ["created_at"] = "Fri, 01 Jan 2021 10:00:00 UTC" }]);
            mailgun.SetList(domain, "unsubscribes", []);
            mailgun.SetList(domain, "whitelists", []);
            receiver.SetSecret(id, secret);
            return t;
        }

        SecretTenant ok = NewTenant("ok"), revoked = NewTenant("revoked"), flaky = NewTenant("flaky");
        var tenants = new[] { ok, revoked, flaky };
        foreach (var t in tenants)
        {
            await TestTenants.RegisterAsync(services, t.Id, t.SigningKey, [t.Domain], t.ApiKey, notifications: new TenantNotifications(receiver.Url, t.NotificationSecret));
        }

        mailgun.RevokeApiKey(revoked.Account);
        mailgun.Fail(flaky.Domain, "bounces", afterPages: 0, HttpStatusCode.InternalServerError, times: 2);

        // The timer (ExportSuppressions): only queues one job per tenant and domain.
        var fanOut = await services.GetRequiredService<ExportFanOut>().RunAsync(day, CancellationToken.None);

        // The job function (ExportSuppressionsJob), as the host drives it: a returned job is deleted, a thrown one is delivered again.
        var jobs = new QueueClient(azurite.ConnectionString, StorageNames.ExportJobsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var runner = services.GetRequiredService<ExportJobRunner>();
        var outcomes = new Dictionary<string, List<string>>();
        while ((await jobs.ReceiveMessagesAsync(16)).Value is { Length: > 0 } batch)
        {
            foreach (var m in batch)
            {
                string tenant = tenants.Single(t => m.Body.ToString().Contains(t.Id, StringComparison.Ordinal)).Id;
                string outcome;
                try
                {
                    var result = await runner.RunAsync(m.Body.ToString(), m.DequeueCount, CancellationToken.None);
                    outcome = result.Outcome.ToString();
                    await jobs.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                }
                catch (Exception ex) when (m.DequeueCount < ShippedHostJson.MaxDequeueCount)
                {
                    outcome = "threw " + ex.GetType().Name;
                    await jobs.UpdateMessageAsync(m.MessageId, m.PopReceipt, visibilityTimeout: TimeSpan.Zero);
                }

                outcomes.TryAdd(tenant, []);
                outcomes[tenant].Add(outcome);
            }
        }

        // Disposing waits for the notification POSTs in flight.
        await services.DisposeAsync();

        var byKey = tenants.ToDictionary(t => t.Id, t => mailgun.Requests.Where(r => r.RawTarget.Contains(t.Domain, StringComparison.Ordinal)
            && r.Authorization == "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("api:" + t.ApiKey))).ToList());
        Assert.Multiple(() =>
        {
            Assert.That(fanOut.Jobs, Is.EqualTo(3), "one job per tenant and domain");
            Assert.That(outcomes.GetValueOrDefault(ok.Id), Is.EqualTo(new[] { "Completed" }));
            Assert.That(outcomes.GetValueOrDefault(revoked.Id), Is.EqualTo(new[] { "Failed" }), "a refused key fails the job at once, recorded");
            Assert.That(outcomes.GetValueOrDefault(flaky.Id)?.Select(o => o.Split(' ')[0]), Is.EqualTo(new[] { "threw", "Completed" }),
                "Mailgun failing: the job throws for a redelivery, which completes");
            Assert.That(byKey[ok.Id].Where(r => r.Status == 200), Is.Not.Empty, "the ok tenant's lists were read with its own key");
            Assert.That(byKey[revoked.Id].Select(r => r.Status), Has.Some.EqualTo(401), "the revoked key was sent and refused");
            Assert.That(byKey[flaky.Id].Select(r => r.Status), Has.Some.EqualTo(500).And.Some.EqualTo(200));
            Assert.That(receiver.Accepted.Select(n => n.Tenant), Has.Some.EqualTo(ok.Id), "the reconciled complaint was announced, signed with the tenant's secret");
            Assert.That(receiver.Rejected, Is.Zero, "every notification verified with its tenant's secret");
        });

        // Every secret, in every form it could leak in.
        var forms = tenants.SelectMany(t => new[] { t.ApiKey, t.SigningKey, t.NotificationSecret, "api:" + t.ApiKey })
            .SelectMany(s => new[] { s, Uri.EscapeDataString(s), Convert.ToBase64String(Encoding.UTF8.GetBytes(s)) })
            .Where(s => s.Length >= 16).Distinct().ToList();
        var places = new List<(string Where, string Text)>();
        places.AddRange(logs.Entries.Select(e => ($"log {e.Category}", e.Text)));
        places.AddRange(logs.Scopes.Select(s => ($"log scope {s.Category}", s.Text)));
        places.AddRange(await StorageTextAsync(azurite.ConnectionString));
        TestContext.Out.WriteLine($"{places.Count} places searched for {forms.Count} secret forms; {logs.Scopes.Count} scopes");
        Assert.Multiple(() =>
        {
            Assert.That(places.Count(p => p.Where.StartsWith("log ", StringComparison.Ordinal)), Is.GreaterThan(20), "the run logged");
            Assert.That(places.Select(p => p.Where), Has.Some.StartsWith("blob").And.Some.StartsWith("table").And.Some.StartsWith("queue"), "storage was written");
            foreach (string secret in forms)
            {
                var leaks = places.Where(p => p.Text.Contains(secret, StringComparison.Ordinal)).Select(p => p.Where).Distinct().Take(3).ToList();
                Assert.That(leaks, Is.Empty, $"a secret ({secret[..6]}…) was written");
            }
        });
    }

    /// <summary>Every table row (all columns), every queue message (raw and decoded) and every blob of the account, as text.</summary>
    private static async Task<List<(string Where, string Text)>> StorageTextAsync(string storage)
    {
        var found = new List<(string, string)>();
        var tables = new TableServiceClient(storage);
        await foreach (var table in tables.QueryAsync())
        {
            await foreach (var row in tables.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                found.Add(($"table {table.Name}", string.Join("; ", row.Select(p => $"{p.Key}={(p.Value is byte[] b ? Encoding.UTF8.GetString(b) : p.Value)}"))));
            }
        }

        var queues = new QueueServiceClient(storage);
        await foreach (var queue in queues.GetQueuesAsync())
        {
            foreach (var m in (await queues.GetQueueClient(queue.Name).PeekMessagesAsync(32)).Value)
            {
                string raw = m.Body.ToString();
                found.Add(($"queue {queue.Name}", raw));
                try
                {
                    found.Add(($"queue {queue.Name}", Encoding.UTF8.GetString(Convert.FromBase64String(raw))));
                }
                catch (FormatException)
                {
                }
            }
        }

        var blobs = new BlobServiceClient(storage);
        await foreach (var container in blobs.GetBlobContainersAsync())
        {
            var client = blobs.GetBlobContainerClient(container.Name);
            await foreach (var blob in client.GetBlobsAsync())
            {
                found.Add(($"blob {container.Name}/{blob.Name}", (await client.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToString()));
            }
        }

        return found;
    }
}
