using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using MailgunFunctions.App;
using MailgunFunctions.Export;
using MailgunFunctions.PlatformUnsubscribe;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests;

/// <summary>
/// The contract between the code, the Functions host and the infrastructure: every function's trigger as the host loads
/// it (functions.metadata), host.json's queue settings exactly as the code and the docs assume them, and the URLs that
/// infra/main.bicep, the tenant setup and the unsubscribe link builder hand to Mailgun and to contacts, each resolved
/// through host.json's route prefix and the generated routes to the function meant to serve it.
/// </summary>
public class HostContractTests
{
    private sealed record Expected(string Name, string EntryPoint, string Type, string Target, string? AuthLevel = null, string? Method = null);

    private static string Entry<T>(string method) => $"{typeof(T).FullName}.{method}";

    /// <summary>Every function as designed: HTTP (route, authorisation, method), queue (queue name), timer (schedule).</summary>
    private static readonly Expected[] Functions =
    [
        new("MailgunEvents", Entry<EventsWebhook>(nameof(EventsWebhook.RunAsync)), "httpTrigger", "mailgun/events", "Function", "post"),
        new("MailgunTenantEvents", Entry<EventsWebhook>(nameof(EventsWebhook.RunForTenantAsync)), "httpTrigger", "mailgun/{tenant}/events", "Function", "post"),
        new("MailgunInbound", Entry<InboundWebhook>(nameof(InboundWebhook.RunAsync)), "httpTrigger", "mailgun/inbound", "Function", "post"),
        new("MailgunTenantInbound", Entry<InboundWebhook>(nameof(InboundWebhook.RunForTenantAsync)), "httpTrigger", "mailgun/{tenant}/inbound", "Function", "post"),
        new("DndGet", Entry<DndApiFunctions>(nameof(DndApiFunctions.GetAsync)), "httpTrigger", "dnd/{tenant}/{address}", "Function", "get"),
        new("DndChanges", Entry<DndApiFunctions>(nameof(DndApiFunctions.ChangesAsync)), "httpTrigger", "dnd/{tenant}", "Function", "get"),
        new("DndEnable", Entry<DndApiFunctions>(nameof(DndApiFunctions.EnableAsync)), "httpTrigger", "dnd/{tenant}/{address}/enable", "Function", "post"),
        // Contacts open the unsubscribe link from their mail client: no function key can be in it (the signed token is the authority).
        new("UnsubscribePage", Entry<UnsubscribeLinkFunctions>(nameof(UnsubscribeLinkFunctions.ShowAsync)), "httpTrigger", "unsubscribe/{token}", "Anonymous", "get"),
        new("Unsubscribe", Entry<UnsubscribeLinkFunctions>(nameof(UnsubscribeLinkFunctions.PostAsync)), "httpTrigger", "unsubscribe/{token}", "Anonymous", "post"),
        new("Resubscribe", Entry<UnsubscribeLinkFunctions>(nameof(UnsubscribeLinkFunctions.UndoAsync)), "httpTrigger", "unsubscribe/{token}/undo", "Anonymous", "post"),
        new("ProcessMailgunEvent", Entry<EventProcessorFunction>(nameof(EventProcessorFunction.RunAsync)), "queueTrigger", StorageNames.EventsQueue),
        new("ProcessMailgunInbound", Entry<InboundReplyQueue>(nameof(InboundReplyQueue.RunAsync)), "queueTrigger", StorageNames.InboundQueue),
        new("DeliverDndNotification", Entry<DndNotificationFunction>(nameof(DndNotificationFunction.RunAsync)), "queueTrigger", StorageNames.NotificationsQueue),
        new("SyncMailgunUnsubscribe", Entry<MailgunUnsubscribeFunction>(nameof(MailgunUnsubscribeFunction.RunAsync)), "queueTrigger", StorageNames.MailgunUnsubscribesQueue),
        new("ExportSuppressionsJob", Entry<SuppressionExportJobFunction>(nameof(SuppressionExportJobFunction.RunAsync)), "queueTrigger", StorageNames.ExportJobsQueue),
        new("ExportSuppressions", Entry<SuppressionExportFunction>(nameof(SuppressionExportFunction.RunAsync)), "timerTrigger", "%EXPORT_SCHEDULE%"),
        new("ExpireTemporaryDnd", Entry<ChangeFeedTimers>(nameof(ChangeFeedTimers.ExpireAsync)), "timerTrigger", "0 * * * * *"),
        new("SweepDndChanges", Entry<ChangeFeedTimers>(nameof(ChangeFeedTimers.SweepAsync)), "timerTrigger", "30 */2 * * * *"),
        new("PurgeDndChangeLog", Entry<ChangeFeedTimers>(nameof(ChangeFeedTimers.PurgeAsync)), "timerTrigger", "0 20 3 * * *"),
        .. Enumerable.Range(1, StorageNames.MaxShards - 1).SelectMany(k => new Expected[]
        {
            new($"ProcessMailgunEventShard{k}", Entry<ShardQueueFunctions>($"EventsShard{k}Async"), "queueTrigger", StorageNames.EventsQueue),
            new($"ProcessMailgunInboundShard{k}", Entry<ShardQueueFunctions>($"InboundShard{k}Async"), "queueTrigger", StorageNames.InboundQueue),
        }),
    ];

    /// <summary>The connection a queue trigger must use: its shard's (the number after "Shard" in its name), else the home account's.</summary>
    internal static string ConnectionOf(string function) =>
        Regex.Match(function, "Shard([0-9]+)$") is { Success: true } m
            ? StorageNames.ShardConnectionSetting(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            : StorageNames.ConnectionSetting;

    private static JArray Metadata()
    {
        string configuration = typeof(HostContractTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        string path = Path.Combine(RepositoryRoot.Find(), "functions", "MailgunFunctions.App", "bin", configuration, "net10.0", "functions.metadata");
        Assert.That(File.Exists(path), Is.True, $"{path} not found: build the app first");
        return JArray.Parse(File.ReadAllText(path));
    }

    private static JObject Trigger(JObject function) =>
        function["bindings"]!.OfType<JObject>().Single(b => ((string?)b["type"])!.EndsWith("Trigger", StringComparison.Ordinal));

    /// <summary>What the generated metadata says, in the shape of <see cref="Expected"/>.</summary>
    private static Expected[] Generated() => Metadata().OfType<JObject>().Select(f =>
    {
        var t = Trigger(f);
        string type = (string)t["type"]!;
        string target = type switch
        {
            "httpTrigger" => (string)t["route"]!,
            "queueTrigger" => (string)t["queueName"]!,
            "timerTrigger" => (string)t["schedule"]!,
            _ => "?",
        };
        if (type == "queueTrigger")
        {
            Assert.That((string?)t["connection"], Is.EqualTo(ConnectionOf((string)f["name"]!)), (string?)f["name"]);
        }

        return new Expected((string)f["name"]!, (string)f["entryPoint"]!, type, target,
            type == "httpTrigger" ? (string?)t["authLevel"] : null,
            type == "httpTrigger" ? string.Join(",", t["methods"]!.Values<string>()) : null);
    }).ToArray();

    [Test]
    public void Every_function_is_generated_with_the_trigger_route_and_authorisation_it_was_designed_with()
    {
        var generated = Generated().OrderBy(f => f.Name, StringComparer.Ordinal).ToArray();
        var expected = Functions.OrderBy(f => f.Name, StringComparer.Ordinal).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(generated.Select(f => f.Name), Is.EqualTo(expected.Select(f => f.Name)), "a new function needs its row here");
            foreach (var e in expected)
            {
                Assert.That(generated.SingleOrDefault(g => g.Name == e.Name), Is.EqualTo(e), e.Name);
            }
        });
    }

    [Test]
    public void Host_json_queue_settings_and_timeout_are_exactly_what_the_code_and_the_docs_assume()
    {
        Assert.Multiple(() =>
        {
            // Producers (EventQueue, the poison queues, the export fan-out) send base64 (StorageClients).
            Assert.That(ShippedHostJson.MessageEncoding, Is.EqualTo("base64"));
            // 16 + 8: up to 24 messages in flight per instance, what the crash harness and the scaling notes assume.
            Assert.That(ShippedHostJson.BatchSize, Is.EqualTo(16));
            Assert.That(ShippedHostJson.NewBatchThreshold, Is.EqualTo(8));
            // 5 deliveries: what the poison views and the export fan-out's retries assume.
            Assert.That(ShippedHostJson.MaxDequeueCount, Is.EqualTo(5));
            Assert.That(ShippedHostJson.VisibilityTimeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(ShippedHostJson.MaxPollingInterval, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(ShippedHostJson.FunctionTimeout, Is.EqualTo(TimeSpan.FromMinutes(10)));
            Assert.That(ShippedHostJson.RoutePrefix, Is.EqualTo("api"));
        });

        // An export job stops at its time budget before the host's timeout would kill it: the code's default and the
        // value infra/main.bicep deploys.
        var bicep = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "infra", "main.bicep"));
        var deployed = Regex.Match(bicep, @"param suppressionExportJobTimeBudget string = '([^']+)'");
        Assert.Multiple(() =>
        {
            Assert.That(new SuppressionExportOptions().JobTimeBudget, Is.LessThan(ShippedHostJson.FunctionTimeout));
            Assert.That(deployed.Success, Is.True, "main.bicep's suppressionExportJobTimeBudget parameter");
            Assert.That(TimeSpan.Parse(deployed.Groups[1].Value, CultureInfo.InvariantCulture), Is.LessThan(ShippedHostJson.FunctionTimeout));
        });

        // The operators' table of these settings (README today, docs/ once split) shows the shipped values.
        string docs = string.Join("\n", new[] { Path.Combine(RepositoryRoot.Find(), "README.md") }
            .Concat(Directory.Exists(Path.Combine(RepositoryRoot.Find(), "docs")) ? Directory.GetFiles(Path.Combine(RepositoryRoot.Find(), "docs"), "*.md", SearchOption.AllDirectories) : [])
            .Select(File.ReadAllText));
        Assert.Multiple(() =>
        {
            Assert.That(docs, Does.Contain($"| `batchSize` / `newBatchThreshold` | {ShippedHostJson.BatchSize} / {ShippedHostJson.NewBatchThreshold} |"));
            Assert.That(docs, Does.Contain($"| `maxDequeueCount` | {ShippedHostJson.MaxDequeueCount} |"));
            Assert.That(docs, Does.Contain($"| `visibilityTimeout` | {ShippedHostJson.VisibilityTimeout.TotalSeconds:0} s |"));
            Assert.That(docs, Does.Contain($"| `maxPollingInterval` | {ShippedHostJson.MaxPollingInterval.TotalSeconds:0} s |"));
        });
    }

    [Test]
    public void The_urls_given_to_Mailgun_and_to_contacts_reach_the_function_meant_to_serve_them()
    {
        var app = new Uri("https://contoso-dnd.azurewebsites.net");
        var bicep = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "infra", "main.bicep"));
        string eventsPath = Regex.Match(bicep, @"output MAILGUN_EVENTS_WEBHOOK_PATH string = '([^']+)'").Groups[1].Value;
        string unsubscribeBase = Regex.Match(bicep, @"Unsubscribe__BaseUrl: empty\(unsubscribeBaseUrl\) \? 'https://\$\{functionAppName\}\.azurewebsites\.net([^']+)'").Groups[1].Value;
        Assert.That(new[] { eventsPath, unsubscribeBase }, Has.None.Empty, "main.bicep's events path output and default Unsubscribe__BaseUrl");

        using var services = TestSettings.Services(TestSettings.Configuration(Azurite.Unreachable(), new Dictionary<string, string?>
            {
                ["Unsubscribe:Keys:k1"] = "k1-contract-0123456789abcdef0123456789ab",
                ["Unsubscribe:ActiveKeyId"] = "k1",
                ["Unsubscribe:BaseUrl"] = app.AbsoluteUri.TrimEnd('/') + unsubscribeBase,
            }), (s, c) => s.AddMailgunFunctions(c), TimeProvider.System);
        var link = services.GetRequiredService<UnsubscribeLinks>().Create("acme", "contact@example.com", "c-1");

        var routes = Generated().Where(f => f.Type == "httpTrigger").ToArray();
        string? Serves(string path, string method) => routes
            .Where(r => r.Method!.Split(',').Contains(method) && Matches(ShippedHostJson.RoutePrefix + "/" + r.Target, path))
            .Select(r => r.Name).SingleOrDefault();

        // A tenant's URLs as tenant connect / setup webhooks register them (TenantUrls), also from an app URL given with /api.
        var connectedWithApi = TenantUrls.ParseAppUrl(app.AbsoluteUri + "api/", out _)!;
        Assert.Multiple(() =>
        {
            Assert.That(Serves(new Uri(app, eventsPath).AbsolutePath, "post"), Is.EqualTo("MailgunEvents"), "main.bicep's MAILGUN_EVENTS_WEBHOOK_PATH");
            Assert.That(Serves(TenantUrls.Events(TenantUrls.ParseAppUrl(app.AbsoluteUri, out _)!, "acme").AbsolutePath, "post"), Is.EqualTo("MailgunTenantEvents"));
            Assert.That(Serves(TenantUrls.Inbound(TenantUrls.ParseAppUrl(app.AbsoluteUri, out _)!, "acme").AbsolutePath, "post"), Is.EqualTo("MailgunTenantInbound"));
            Assert.That(Serves(TenantUrls.Events(connectedWithApi, "acme").AbsolutePath, "post"), Is.EqualTo("MailgunTenantEvents"));
            Assert.That(Serves(TenantUrls.WithFunctionKey(TenantUrls.Events(connectedWithApi, "acme"), "k").AbsolutePath, "post"), Is.EqualTo("MailgunTenantEvents"));
            // The link in every mail: the page (GET), RFC 8058's one-click POST, and the page's undo.
            Assert.That(link.Url.Host, Is.EqualTo(app.Host));
            Assert.That(Serves(link.Url.AbsolutePath, "get"), Is.EqualTo("UnsubscribePage"));
            Assert.That(Serves(link.Url.AbsolutePath, "post"), Is.EqualTo("Unsubscribe"));
            Assert.That(Serves(link.Url.AbsolutePath + "/undo", "post"), Is.EqualTo("Resubscribe"));
            Assert.That(link.ListUnsubscribe, Does.Contain(link.Url.AbsoluteUri));
        });
    }

    /// <summary>Route template matching as the host does it for these routes: literal segments (any case) and {parameters}.</summary>
    private static bool Matches(string template, string path)
    {
        var t = template.Trim('/').Split('/');
        var p = path.Trim('/').Split('/');
        return t.Length == p.Length && t.Zip(p).All(x =>
            x.First.StartsWith('{') ? x.Second.Length > 0 : string.Equals(x.First, x.Second, StringComparison.OrdinalIgnoreCase));
    }
}
