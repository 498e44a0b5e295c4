using System.Reflection;
using MailgunFunctions.App;
using MailgunFunctions.Testing;
using Microsoft.Azure.Functions.Worker;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests;

/// <summary>
/// Reads the functions.metadata the build generates (what the Functions host loads) so a binding mistake
/// (route, trigger, queue name, connection setting) cannot ship.
/// </summary>
public class FunctionsMetadataTests
{
    private static JArray Metadata()
    {
        string configuration = typeof(FunctionsMetadataTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        string path = Path.Combine(RepositoryRoot.Find(), "functions", "MailgunFunctions.App", "bin", configuration, "net10.0", "functions.metadata");
        Assert.That(File.Exists(path), Is.True, $"{path} not found: build the app first");
        return JArray.Parse(File.ReadAllText(path));
    }

    private static JObject Function(string name) =>
        Metadata().OfType<JObject>().SingleOrDefault(f => (string?)f["name"] == name)
        ?? throw new AssertionException($"function '{name}' is not in functions.metadata");

    private static JObject Trigger(JObject function) =>
        function["bindings"]!.OfType<JObject>().Single(b => ((string?)b["type"])!.EndsWith("Trigger", StringComparison.Ordinal));

    [Test]
    public void Events_webhook_is_an_http_post_on_mailgun_events_with_a_function_key()
    {
        var function = Function("MailgunEvents");
        var trigger = Trigger(function);
        Assert.Multiple(() =>
        {
            Assert.That((string?)function["entryPoint"], Is.EqualTo($"{typeof(EventsWebhook).FullName}.{nameof(EventsWebhook.RunAsync)}"));
            Assert.That((string?)trigger["type"], Is.EqualTo("httpTrigger"));
            Assert.That((string?)trigger["route"], Is.EqualTo("mailgun/events"));
            Assert.That((string?)trigger["authLevel"], Is.EqualTo("Function"));
            Assert.That(trigger["methods"]!.Values<string>(), Is.EqualTo(new[] { "post" }));
        });
    }

    [Test]
    public void Inbound_webhook_is_an_http_post_on_mailgun_inbound_with_a_function_key()
    {
        var function = Function("MailgunInbound");
        var trigger = Trigger(function);
        Assert.Multiple(() =>
        {
            Assert.That((string?)function["entryPoint"], Is.EqualTo($"{typeof(InboundWebhook).FullName}.{nameof(InboundWebhook.RunAsync)}"));
            Assert.That((string?)trigger["type"], Is.EqualTo("httpTrigger"));
            Assert.That((string?)trigger["route"], Is.EqualTo("mailgun/inbound"));
            Assert.That((string?)trigger["authLevel"], Is.EqualTo("Function"));
            Assert.That(trigger["methods"]!.Values<string>(), Is.EqualTo(new[] { "post" }));
        });
    }

    [Test]
    public void Inbound_processing_is_a_queue_trigger_on_mailgun_inbound()
    {
        var function = Function("ProcessMailgunInbound");
        var trigger = Trigger(function);
        Assert.Multiple(() =>
        {
            Assert.That((string?)function["entryPoint"], Is.EqualTo($"{typeof(InboundReplyQueue).FullName}.{nameof(InboundReplyQueue.RunAsync)}"));
            Assert.That((string?)trigger["type"], Is.EqualTo("queueTrigger"));
            Assert.That((string?)trigger["queueName"], Is.EqualTo("mailgun-inbound"));
            Assert.That((string?)trigger["connection"], Is.EqualTo("AzureWebJobsStorage"));
        });
    }

    [Test]
    public void Every_function_class_in_the_app_is_in_the_metadata_with_one_trigger()
    {
        var declared = FunctionMethods().Select(m => m.GetCustomAttribute<FunctionAttribute>()!.Name).OrderBy(n => n).ToArray();
        var generated = Metadata().OfType<JObject>().Select(f => (string)f["name"]!).OrderBy(n => n).ToArray();
        Assert.That(generated, Is.EqualTo(declared));
        foreach (var function in Metadata().OfType<JObject>())
        {
            Assert.That(function["bindings"]!.OfType<JObject>().Count(b => ((string?)b["type"])!.EndsWith("Trigger", StringComparison.Ordinal)), Is.EqualTo(1), (string?)function["name"]);
        }
    }

    [Test]
    public void Queue_triggers_read_named_queues_through_their_shards_storage_connection_setting()
    {
        foreach (var function in Metadata().OfType<JObject>())
        {
            var trigger = Trigger(function);
            if ((string?)trigger["type"] != "queueTrigger")
            {
                continue;
            }

            Assert.That((string?)trigger["connection"], Is.EqualTo(HostContractTests.ConnectionOf((string)function["name"]!)), (string?)function["name"]);
            Assert.That((string?)trigger["queueName"], Does.Match("^[a-z0-9-]{3,63}$"), (string?)function["name"]);
        }
    }

    internal static IEnumerable<MethodInfo> FunctionMethods() =>
        typeof(EventsWebhook).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null);
}
