using System.Net;
using System.Text;
using Azure.Storage.Queues;
using MailgunFunctions.App;
using MailgunFunctions.Export;
using MailgunFunctions.Processing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.AspNetCore.Mvc;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Reliability;

/// <summary>
/// Every webhook path (accepted, every rejection, storage down), queue processing (processed, poisoned, storage down)
/// and the suppression export (success, Mailgun refusing the key, Mailgun failing) run through the app's container
/// with every log captured at Trace level: no configured secret (webhook signing keys, Mailgun API key and its Basic
/// header, unsubscribe link keys) appears in any message, property or exception text. The tenant paths of the CLI
/// (connect with a wrong key, with Mailgun failing mid-way and for real; a signing-key rotation; a parent account; a
/// disconnect failing mid-way and for real) run through the same container: no tenant's API key, signing key (old or
/// new), function key or parent key appears either.
/// </summary>
[Category("Reliability")]
[NonParallelizable]
public class SecretsInLogsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private const string UnsubscribeKey = "unsub-key-0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    private const string OldUnsubscribeKey = "unsub-key-old-00112233445566778899aabbccdd";

    /// <summary>A link key this app does not know (a retired key): its links answer "no longer valid".</summary>
    private const string RetiredUnsubscribeKey = "unsub-key-retired-ffeeddccbbaa99887766554433";

    [Test]
    public async Task No_secret_is_ever_written_to_a_log()
    {
        string storage = await Azurite.SharedConnectionStringAsync();
        var events = new QueueClient(storage, StorageNames.EventsQueue);
        await events.CreateIfNotExistsAsync();
        await events.ClearMessagesAsync();
        await using var us = await MailgunFake.StartAsync(TestSettings.ApiKey);
        await using var eu = await MailgunFake.StartAsync(TestSettings.ApiKey);
        string domain = $"logs-{Guid.NewGuid():N}"[..13] + ".example.com";
        us.SetList(domain, "bounces", [new JObject { ["address"] = "a@example.net", ["code"] = "550", ["error"] = "no such user", ["created_at"] = "Fri, 01 Jan 2021 10:00:00 UTC" }]);
        foreach (string list in new[] { "complaints", "unsubscribes", "whitelists" })
        {
            us.SetList(domain, list, []);
        }

        var settings = new Dictionary<string, string?>
        {
            ["Unsubscribe:Keys:k1"] = UnsubscribeKey,
            ["Unsubscribe:Keys:k0"] = OldUnsubscribeKey,
            ["Unsubscribe:ActiveKeyId"] = "k1",
            ["Unsubscribe:BaseUrl"] = "https://app.example.net/api/unsubscribe",
            ["MailgunApi:UsBaseUrl"] = us.BaseUrl.AbsoluteUri,
            ["MailgunApi:EuBaseUrl"] = eu.BaseUrl.AbsoluteUri,
            ["MailgunApi:RetryBaseDelay"] = "00:00:00.010",
            ["MailgunApi:MaxRetryDelay"] = "00:00:00.100",
            ["MailgunApi:MaxRetryAttempts"] = "2",
            ["MailgunApi:Domains:0:Name"] = domain,
            ["MailgunApi:Domains:0:Region"] = "Us",
        };

        var logs = new List<CapturedLogs>();
        var tenantSecrets = new List<string>();
        var answers = new List<string>();
        int paths = 0;
        foreach (string target in new[] { storage, Azurite.Unreachable() })
        {
            using var app = new AppServices(target, Now, settings);
            logs.Add(app.Logs);
            TestContext.Progress.WriteLine($"events webhook, {target[..40]}");
            paths += await EventsWebhookPaths(app, target == storage, answers);
            TestContext.Progress.WriteLine("inbound webhook");
            paths += await InboundWebhookPaths(app, answers);
            TestContext.Progress.WriteLine("processing");
            paths += await ProcessingPaths(app, target == storage ? storage : null);
            TestContext.Progress.WriteLine("export");
            paths += await ExportPaths(app, domain, us, target == storage);
            TestContext.Progress.WriteLine("unsubscribe link");
            paths += await UnsubscribePaths(app, settings, target == storage, answers);
            if (target == storage)
            {
                TestContext.Progress.WriteLine("tenant connect, rotate, disconnect");
                paths += await TenantPaths(app, us, tenantSecrets);
            }
        }

        string[] secrets =
        [
            TestSettings.SigningKey, TestSettings.NextSigningKey, TestSettings.ApiKey, UnsubscribeKey, OldUnsubscribeKey, RetiredUnsubscribeKey,
            Convert.ToBase64String(Encoding.UTF8.GetBytes("api:" + TestSettings.ApiKey)),
            .. tenantSecrets,
        ];
        var entries = logs.SelectMany(l => l.Entries).ToList();
        // Where a secret could surface: log messages and scopes, the webhooks' answers, and the poison queues' messages (kept for operators).
        var places = entries.Select(e => (Where: "log " + e.Category, e.Text))
            .Concat(logs.SelectMany(l => l.Scopes).Select(e => (Where: "log scope " + e.Category, e.Text)))
            .Concat(answers.Select(a => (Where: "response body", Text: a)))
            .Concat(await PoisonTextAsync(storage))
            .ToList();
        // Each secret also URL-encoded (a query string) and base64 (a header, a blob of JSON).
        var forms = secrets.SelectMany(SecretForms.Of).Distinct().ToList();
        TestContext.Out.WriteLine($"{paths} paths, {entries.Count} log entries, {entries.Count(e => e.Text.Contains("Exception", StringComparison.Ordinal))} with exceptions; "
            + $"{answers.Count} answers, {places.Count(p => p.Where.StartsWith("poison", StringComparison.Ordinal))} poison messages searched");
        Assert.Multiple(() =>
        {
            Assert.That(entries, Has.Count.GreaterThan(50), "the run logged");
            Assert.That(entries.Select(e => e.Category), Has.Some.Contains("Export").And.Some.Contains("Processing").And.Some.Contains("Inbound").And.Some.Contains("TenantConnection")
                .And.Some.Contains("UnsubscribeEndpoint"));
            Assert.That(tenantSecrets, Has.Count.EqualTo(7), "the tenant paths ran");
            Assert.That(places.Select(p => p.Where), Has.Some.EqualTo("poison mailgun-events-poison"), "the junk messages were parked");
            foreach (string secret in forms)
            {
                var leaks = places.Where(e => e.Text.Contains(secret, StringComparison.Ordinal)).Select(e => $"{e.Where}: {e.Text}").Take(3).ToList();
                Assert.That(leaks, Is.Empty, $"a secret ({secret[..6]}…) was written");
            }
        });
    }

    private static async Task<int> EventsWebhookPaths(AppServices app, bool realStorage, List<string> answers)
    {
        var webhook = app.Function<EventsWebhook>();
        var signedAt = Now.AddMinutes(-1);
        var data = SignedWebhook.Failed("logs@example.com", signedAt);
        string token = SignedWebhook.NewToken();
        string[] bodies =
        [
            SignedWebhook.Body(data, signedAt, token),
            SignedWebhook.Body(data, signedAt, token),                                                     // a retry: queued again
            SignedWebhook.Body(SignedWebhook.Failed("other@example.com", signedAt), signedAt, token),      // replay, swapped body
            SignedWebhook.Body(data, signedAt, key: TestSettings.ApiKey),                                  // the API key as signing key
            SignedWebhook.Body(data, signedAt, key: UnsubscribeKey),                                       // the unsubscribe key as signing key
            SignedWebhook.Body(data, signedAt, key: "forged-key"),
            SignedWebhook.Body(data, Now.AddDays(-1)),                                                     // stale (older than 12 h)
            SignedWebhook.Body(data, Now.AddHours(1)),                                                     // future
            SignedWebhook.Body(new JObject { ["event"] = "failed" }, signedAt),                            // invalid event
            "{\"signature\":{\"timestamp\":\"1\"},",                                                       // malformed
            "{}",
            "{\"signature\":" + new string('[', 3000) + "}",
        ];
        var reasons = new List<string>();
        async Task Send(Microsoft.AspNetCore.Http.HttpRequest request)
        {
            string content = ((ContentResult)await webhook.RunAsync(request, CancellationToken.None)).Content!;
            answers.Add(content);
            reasons.Add((string)JObject.Parse(content)["outcome"]!);
        }
        foreach (string body in bodies)
        {
            await Send(AppServices.Post(body));
        }

        await Send(AppServices.Post(bodies[0], "application/x-www-form-urlencoded"));
        await Send(AppServices.Post(new byte[2 * 1024 * 1024]));
        if (!realStorage)
        {
            Assert.That(reasons, Has.Some.EqualTo("storage_unavailable"), "the signed deliveries met storage that is down");
        }
        else
        {
            // The security cases of docs/reliability.md (row Security), each with its documented answer.
            Assert.That(reasons.Take(8).Append(reasons[^2]).Append(reasons[^1]).ToArray(), Is.EqualTo(new[]
            {
                "accepted", "accepted", "token_replayed", "signature_invalid", "signature_invalid", "signature_invalid", "timestamp_stale",
                "timestamp_in_future", "unsupported_media_type", "body_too_large",
            }));
        }

        return bodies.Length + 2;
    }

    private static async Task<int> InboundWebhookPaths(AppServices app, List<string> answers)
    {
        var webhook = app.Function<InboundWebhook>();
        var fields = InboundPost.ParsedReply();
        var posts = new List<(byte[] Body, string ContentType)>
        {
            InboundPost.UrlEncoded(InboundPost.Signed(fields, Now.AddMinutes(-1))),
            InboundPost.Multipart(InboundPost.Signed(fields, Now.AddMinutes(-1)), []),
            InboundPost.UrlEncoded(InboundPost.Signed(fields, Now.AddMinutes(-1), key: TestSettings.ApiKey)),
            InboundPost.UrlEncoded(InboundPost.Signed(fields, Now.AddMinutes(-1), key: UnsubscribeKey)),
            InboundPost.UrlEncoded(InboundPost.Signed(fields, Now.AddHours(-5))),
            InboundPost.UrlEncoded(fields),
            InboundPost.UrlEncoded(InboundPost.Signed([new("subject", "no recipient")], Now.AddMinutes(-1))),
            (Encoding.UTF8.GetBytes("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ntrunc"), "multipart/form-data; boundary=x"),
            (Encoding.UTF8.GetBytes("{}"), "application/json"),
        };
        foreach (var (body, contentType) in posts)
        {
            var result = (ContentResult)await webhook.RunAsync(AppServices.Post(body, contentType), CancellationToken.None);
            answers.Add(result.Content!);
        }

        var statuses = answers.TakeLast(posts.Count).Select(a => (string?)JObject.Parse(a)["outcome"]).ToList();
        Assert.That(statuses.Distinct().Count(), Is.GreaterThanOrEqualTo(4), "the posts took different paths: " + string.Join(", ", statuses));

        return posts.Count;
    }

    private static async Task<int> ProcessingPaths(AppServices app, string? storage)
    {
        var processor = app.Get<EventProcessor>();
        var messages = new List<string> { "not an envelope", "{\"v\":1}" };
        if (storage is not null)
        {
            // What the webhook paths queued, processed as the queue trigger would.
            var queue = new QueueClient(storage, StorageNames.EventsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
            foreach (var m in (await queue.ReceiveMessagesAsync(32)).Value)
            {
                messages.Add(m.Body.ToString());
                await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }

        var outcomes = new List<string>();
        foreach (string message in messages)
        {
            if (storage is null)
            {
                // Storage down: every message throws (the host retries it); the failure is logged, which is what is checked.
                Assert.That(async () => await processor.ProcessAsync(message, 1, CancellationToken.None), Throws.Exception);
                outcomes.Add("threw");
            }
            else
            {
                outcomes.Add((await processor.ProcessAsync(message, 1, CancellationToken.None)).Outcome.ToString());
            }
        }

        // With storage: the two junk messages are poisoned (with their reason), the two queued deliveries processed.
        Assert.That(outcomes, Is.EqualTo(storage is null ? new[] { "threw", "threw" } : new[] { "Poisoned", "Poisoned", "Processed", "Processed" }));
        return messages.Count;
    }

    private static async Task<int> ExportPaths(AppServices app, string domain, MailgunFake us, bool realStorage)
    {
        var export = app.Get<SuppressionExport>();
        var day = DateOnly.FromDateTime(Now.UtcDateTime);
        int before = us.Requests.Count;
        TestContext.Progress.WriteLine($"export {domain}");
        if (realStorage)
        {
            var summary = await export.ExportDomainAsync(new ExportScope("default", domain), day, CancellationToken.None);
            Assert.That(summary, Is.Not.Null);
        }
        else
        {
            // Storage down: the run fails before or after reading Mailgun, and says so.
            Assert.That(async () => await export.ExportDomainAsync(new ExportScope("default", domain), day, CancellationToken.None), Throws.Exception);
        }

        int paths = 1;
        foreach (var (status, offset) in new[] { (HttpStatusCode.InternalServerError, 1), (HttpStatusCode.Unauthorized, 2) })
        {
            us.Fail(domain, "bounces", afterPages: 0, status, times: 10);
            paths++;
            TestContext.Progress.WriteLine($"export failing {status}");
            int sent = us.Requests.Count;
            Exception? thrown = null;
            await WithMovingClockAsync(app, async () =>
            {
                try
                {
                    await export.ExportDomainAsync(new ExportScope("default", domain), day.AddDays(offset), CancellationToken.None);
                }
                catch (Exception ex)
                {
                    thrown = ex;
                }
            });
            Assert.That(thrown, Is.Not.Null, "Mailgun answering " + status + " fails the run");
            if (realStorage)
            {
                // Mailgun's answer is what failed the run (after the client's retries for a 500; at once for a refused key).
                Assert.That(thrown, Is.InstanceOf<MailgunFunctions.MailgunApi.MailgunApiException>().With.Property("StatusCode").EqualTo(status), status.ToString());
                Assert.That(us.Requests.Skip(sent).Select(r => r.Status), Has.Some.EqualTo((int)status), "Mailgun was asked and answered " + status);
            }

            us.ClearFaults();
        }

        if (realStorage)
        {
            Assert.That(us.Requests.Count, Is.GreaterThan(before), "the export read Mailgun with the key");
        }

        return paths;
    }

    /// <summary>
    /// The unsubscribe link's three functions (GET page, POST one-click and button, POST undo) on a link made with the
    /// active key, one made with the old key, one made with a retired key, a link with one character changed and a POST
    /// that is no form of ours. Each answer's status is asserted, and with storage up the DND entry after each step.
    /// </summary>
    private static async Task<int> UnsubscribePaths(AppServices app, Dictionary<string, string?> settings, bool realStorage, List<string> answers)
    {
        var functions = app.Function<UnsubscribeLinkFunctions>();
        string tenant = TestTenants.NewId("logs"), address = $"unsub.{Guid.NewGuid():N}@example.com";
        string Token(AppServices maker) => maker.Get<MailgunFunctions.PlatformUnsubscribe.UnsubscribeLinks>().Create(tenant, address, "contact-1", "campaign-1").Url.Segments[^1];
        string token = Token(app);
        string oldToken, retiredToken;
        using (var old = new AppServices(Azurite.Unreachable(), Now, new Dictionary<string, string?>(settings) { ["Unsubscribe:ActiveKeyId"] = "k0" }))
        {
            oldToken = Token(old);
        }

        using (var retired = new AppServices(Azurite.Unreachable(), Now, new Dictionary<string, string?>(settings)
        {
            ["Unsubscribe:Keys:k1"] = "", ["Unsubscribe:Keys:k0"] = "", ["Unsubscribe:Keys:k9"] = RetiredUnsubscribeKey, ["Unsubscribe:ActiveKeyId"] = "k9",
        }))
        {
            retiredToken = Token(retired);
        }

        string tampered = token[..^3] + (token[^3] == 'A' ? 'B' : 'A') + token[^2..];
        Assert.That(new[] { oldToken, retiredToken }, Has.None.EqualTo(token), "each key makes its own token");
        var store = app.Get<MailgunFunctions.Dnd.DndStore>();
        var steps = new (string Name, Func<Task<IActionResult>> Call, int Up, int Down, MailgunFunctions.Dnd.DndState? After)[]
        {
            ("GET", () => functions.ShowAsync(Request("GET", token), token, CancellationToken.None), 200, 503, MailgunFunctions.Dnd.DndState.None),
            ("POST one-click", () => functions.PostAsync(Request("POST", token, "List-Unsubscribe=One-Click"), token, CancellationToken.None), 200, 503, MailgunFunctions.Dnd.DndState.Permanent),
            ("GET again", () => functions.ShowAsync(Request("GET", token), token, CancellationToken.None), 200, 503, MailgunFunctions.Dnd.DndState.Permanent),
            ("POST undo", () => functions.UndoAsync(Request("POST", token + "/undo"), token, CancellationToken.None), 200, 503, MailgunFunctions.Dnd.DndState.None),
            ("POST button, old key", () => functions.PostAsync(Request("POST", oldToken, "action=unsubscribe"), oldToken, CancellationToken.None), 200, 503, MailgunFunctions.Dnd.DndState.Permanent),
            ("POST not our form", () => functions.PostAsync(Request("POST", token, "action=other"), token, CancellationToken.None), 400, 400, MailgunFunctions.Dnd.DndState.Permanent),
            ("GET retired key", () => functions.ShowAsync(Request("GET", retiredToken), retiredToken, CancellationToken.None), 404, 404, null),
            ("POST one-click, retired key", () => functions.PostAsync(Request("POST", retiredToken, "List-Unsubscribe=One-Click"), retiredToken, CancellationToken.None), 404, 404, null),
            ("GET tampered", () => functions.ShowAsync(Request("GET", tampered), tampered, CancellationToken.None), 400, 400, null),
            ("POST undo tampered", () => functions.UndoAsync(Request("POST", tampered + "/undo"), tampered, CancellationToken.None), 400, 400, null),
        };
        foreach (var (name, call, up, down, after) in steps)
        {
            app.Time.Advance(TimeSpan.FromMinutes(1));
            var result = (ContentResult)await call();
            answers.Add(result.Content ?? "");
            Assert.That(result.StatusCode, Is.EqualTo(realStorage ? up : down), name);
            if (realStorage && after is { } expected)
            {
                var (_, status) = await store.GetStatusAsync(tenant, address, CancellationToken.None);
                Assert.That(status.State, Is.EqualTo(expected), name + ": the DND entry after it");
            }
        }

        return steps.Length;

        static Microsoft.AspNetCore.Http.HttpRequest Request(string method, string path, string? form = null)
        {
            var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
            context.Request.Method = method;
            context.Request.Path = "/api/unsubscribe/" + path;
            if (form is not null)
            {
                context.Request.ContentType = "application/x-www-form-urlencoded";
                context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(form));
                context.Request.ContentLength = context.Request.Body.Length;
            }

            return context.Request;
        }
    }

    /// <summary>Runs <paramref name="step"/> while the app's (fake) clock moves on, so the API client's retry delays pass.</summary>
    private static async Task WithMovingClockAsync(AppServices app, Func<Task> step)
    {
        using var done = new CancellationTokenSource();
        var clock = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                app.Time.Advance(TimeSpan.FromMilliseconds(200));
                await Task.Delay(5);
            }
        });
        try
        {
            await step();
        }
        finally
        {
            await done.CancelAsync();
            await clock;
        }
    }

    /// <summary>Every message of the poison queues the paths above can fill (decoded), for operators to read: no secret may be in one.</summary>
    private static async Task<List<(string Where, string Text)>> PoisonTextAsync(string storage)
    {
        var found = new List<(string, string)>();
        foreach (string name in new[] { StorageNames.EventsPoisonQueue, StorageNames.InboundPoisonQueue, StorageNames.ExportJobsPoisonQueue })
        {
            var queue = new QueueClient(storage, name);
            if (!(await queue.ExistsAsync()).Value)
            {
                continue;
            }

            foreach (var m in (await queue.PeekMessagesAsync(32)).Value)
            {
                string raw = m.Body.ToString();
                found.Add(("poison " + name, raw));
                try
                {
                    found.Add(("poison " + name, Encoding.UTF8.GetString(Convert.FromBase64String(raw))));
                }
                catch (FormatException)
                {
                }
            }
        }

        return found;
    }

    /// <summary>The Core's tenant operations the CLI runs (tenant connect|rotate-signing-key|disconnect|parent add), on their failure paths too.</summary>
    private static async Task<int> TenantPaths(AppServices app, MailgunFake us, List<string> secrets)
    {
        string id = TestTenants.NewId("logs"), a = id + "-a.example.com", b = id + "-b.example.com";
        string apiKey = "tenant-api-key-" + Guid.NewGuid().ToString("N"), signingKey = TestTenants.NewSigningKey(), functionKey = "fn-key-" + Guid.NewGuid().ToString("N");
        string parentKey = "parent-api-key-" + Guid.NewGuid().ToString("N"), parentSigningKey = TestTenants.NewSigningKey();
        var account = us.AddAccount(apiKey, signingKey, a, b);
        us.AddAccount(parentKey, parentSigningKey);
        secrets.AddRange([apiKey, signingKey, functionKey, parentKey, parentSigningKey, Convert.ToBase64String(Encoding.UTF8.GetBytes("api:" + apiKey))]);
        var connection = app.Get<MailgunFunctions.Tenants.TenantConnection>();
        MailgunFunctions.Tenants.ConnectRequest Request(string key) => new()
        {
            TenantId = id,
            Domains = [new MailgunFunctions.Tenants.TenantDomain(a, MailgunFunctions.MailgunApi.MailgunRegion.Us), new MailgunFunctions.Tenants.TenantDomain(b, MailgunFunctions.MailgunApi.MailgunRegion.Us)],
            ApiKey = key,
            AppUrl = new Uri("https://app.example.net/"),
            FunctionKey = functionKey,
            Actor = "test",
        };
        var steps = new List<Func<Task>>
        {
            () => connection.ConnectAsync(Request("wrong-" + apiKey), CancellationToken.None),
            () => { us.Fail(b, "webhooks", afterPages: 0, HttpStatusCode.InternalServerError, times: 10); return connection.ConnectAsync(Request(apiKey), CancellationToken.None); },
            () => { us.ClearFaults(); return connection.ConnectAsync(Request(apiKey), CancellationToken.None); },
            () => connection.RotateSigningKeyAsync(id, MailgunFunctions.Tenants.SigningKeySource.Given, apiKey, "test", CancellationToken.None),
            () => connection.RotateSigningKeyAsync(id, MailgunFunctions.Tenants.SigningKeySource.Regenerate, null, "test", CancellationToken.None),
            () => connection.SaveParentAsync("p" + id, MailgunFunctions.MailgunApi.MailgunRegion.Us, parentKey, "test", CancellationToken.None),
            () => { us.Fail(a, "webhooks", afterPages: 0, HttpStatusCode.InternalServerError, times: 10); return connection.DisconnectAsync(id, null, false, "test", CancellationToken.None); },
            () => { us.ClearFaults(); return connection.DisconnectAsync(id, null, false, "test", CancellationToken.None); },
        };
        int failures = 0;
        foreach (var step in steps)
        {
            // The API client's retry delays run on the app's (fake) clock: keep it moving while Mailgun fails.
            using var done = new CancellationTokenSource();
            var clock = Task.Run(async () =>
            {
                while (!done.IsCancellationRequested)
                {
                    app.Time.Advance(TimeSpan.FromMilliseconds(200));
                    await Task.Delay(5);
                }
            });
            try
            {
                await step();
            }
            catch (MailgunFunctions.Tenants.TenantOperationException)
            {
                // Wrong key, Mailgun failing, the API key given as signing key: the message goes to the operator.
                failures++;
            }
            finally
            {
                await done.CancelAsync();
                await clock;
            }
        }

        // The key Mailgun made in the rotation.
        secrets.Add(account.SigningKey);
        Assert.That(failures, Is.EqualTo(4), "the wrong key, both outages and the API key as signing key fail; the rest succeeds");
        return steps.Count;
    }
}
