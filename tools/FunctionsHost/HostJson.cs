using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FunctionsHost;

/// <summary>The host.json settings the stand-in acts on, with the real host's defaults.</summary>
public sealed record QueueSettings(int BatchSize, int NewBatchThreshold, int MaxDequeueCount, TimeSpan VisibilityTimeout, TimeSpan MaxPollingInterval, bool Base64);

/// <summary>
/// Reads host.json from the app's folder, after applying <c>AzureFunctionsJobHost__path__to__setting</c> app settings
/// over it, as the real host does (so a test or an environment can change one value without another host.json).
/// </summary>
public sealed class HostJson
{
    public const string OverridePrefix = "AzureFunctionsJobHost__";

    private HostJson(string routePrefix, QueueSettings queues)
    {
        RoutePrefix = routePrefix;
        Queues = queues;
    }

    /// <summary><c>extensions.http.routePrefix</c>, default <c>api</c>; empty means routes start at the root.</summary>
    public string RoutePrefix { get; }

    public QueueSettings Queues { get; }

    public static HostJson Load(string appDirectory, IReadOnlyDictionary<string, string> settings)
    {
        string path = Path.Combine(appDirectory, "host.json");
        JsonObject root;
        try
        {
            root = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })?.AsObject() ?? [] : [];
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {ex.Message}", ex);
        }

        foreach (var (name, value) in settings)
        {
            if (name.StartsWith(OverridePrefix, StringComparison.OrdinalIgnoreCase))
            {
                Set(root, name[OverridePrefix.Length..].Split(["__", ":"], StringSplitOptions.RemoveEmptyEntries), value);
            }
        }

        var http = Child(Child(root, "extensions"), "http");
        var queues = Child(Child(root, "extensions"), "queues");
        int batchSize = Math.Clamp(Int(queues, "batchSize") ?? 16, 1, 32);
        var queueSettings = new QueueSettings(
            batchSize,
            // The extension's default: half a batch per core.
            Math.Max(0, Int(queues, "newBatchThreshold") ?? batchSize / 2 * Environment.ProcessorCount),
            Math.Max(1, Int(queues, "maxDequeueCount") ?? 5),
            Span(queues, "visibilityTimeout") ?? TimeSpan.Zero,
            Span(queues, "maxPollingInterval") ?? TimeSpan.FromMinutes(1),
            !string.Equals(Text(queues, "messageEncoding"), "none", StringComparison.OrdinalIgnoreCase));
        return new HostJson((Text(http, "routePrefix") ?? "api").Trim('/'), queueSettings);
    }

    private static JsonObject? Child(JsonObject? parent, string name) =>
        parent?.FirstOrDefault(p => p.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value as JsonObject;

    private static string? Text(JsonObject? parent, string name) =>
        parent?.FirstOrDefault(p => p.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value?.ToString();

    private static int? Int(JsonObject? parent, string name) =>
        Text(parent, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : null;

    private static TimeSpan? Span(JsonObject? parent, string name) =>
        Text(parent, name) is { } text ? TimeSpan.Parse(text, CultureInfo.InvariantCulture) : null;

    private static void Set(JsonObject root, string[] path, string value)
    {
        if (path.Length == 0)
        {
            return;
        }

        var node = root;
        foreach (string segment in path[..^1])
        {
            var next = Child(node, segment);
            if (next is null)
            {
                next = [];
                node[segment] = next;
            }

            node = next;
        }

        string leaf = node.FirstOrDefault(p => p.Key.Equals(path[^1], StringComparison.OrdinalIgnoreCase)).Key ?? path[^1];
        node[leaf] = value;
    }
}
