using System.Globalization;
using System.Text.Json;

namespace MailgunFunctions.Testing;

/// <summary>
/// The repository's host.json as the Functions host reads it: the queue trigger's concurrency and retry settings, the
/// function timeout and the HTTP route prefix. Tests that copy the host's behaviour (batch size, delivery count) take
/// them from here, so they run with what ships.
/// </summary>
public static class ShippedHostJson
{
    private static readonly Lazy<JsonElement> Root = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "host.json"))).RootElement.Clone());

    private static JsonElement Queues => Root.Value.GetProperty("extensions").GetProperty("queues");

    public static string RoutePrefix => Root.Value.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString()!;
    public static string MessageEncoding => Queues.GetProperty("messageEncoding").GetString()!;
    public static int BatchSize => Queues.GetProperty("batchSize").GetInt32();
    public static int NewBatchThreshold => Queues.GetProperty("newBatchThreshold").GetInt32();
    public static int MaxDequeueCount => Queues.GetProperty("maxDequeueCount").GetInt32();
    public static TimeSpan VisibilityTimeout => Span(Queues.GetProperty("visibilityTimeout"));
    public static TimeSpan MaxPollingInterval => Span(Queues.GetProperty("maxPollingInterval"));
    public static TimeSpan FunctionTimeout => Span(Root.Value.GetProperty("functionTimeout"));

    private static TimeSpan Span(JsonElement value) => TimeSpan.Parse(value.GetString()!, CultureInfo.InvariantCulture);
}
