using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FunctionsHost.Rpc;

namespace FunctionsHost;

/// <summary>The kinds of trigger the stand-in drives.</summary>
public enum TriggerKind
{
    Http,
    Queue,
    Timer,
    /// <summary>A trigger the stand-in cannot drive: the function is loaded but only runs through the admin API.</summary>
    Other,
}

/// <summary>
/// One function as the worker described it in its metadata: the trigger binding (name, type and the binding's
/// JSON, whose <c>%NAME%</c> references are resolved from the app settings) and the metadata to load it with.
/// </summary>
public sealed partial class HostedFunction
{
    internal HostedFunction(RpcFunctionMetadata metadata, IReadOnlyDictionary<string, string> settings)
    {
        Metadata = metadata;
        var bindings = metadata.RawBindings.Select(raw => JsonNode.Parse(raw)?.AsObject() ?? throw new InvalidDataException($"function {metadata.Name}: a binding is not a JSON object")).ToList();
        var trigger = bindings.FirstOrDefault(b => ((string?)b["type"])?.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase) == true)
            ?? throw new InvalidDataException($"function {metadata.Name} has no trigger binding");
        TriggerBinding = Resolve(trigger, settings, metadata.Name);
        TriggerName = (string?)TriggerBinding["name"] ?? throw new InvalidDataException($"function {metadata.Name}: the trigger binding has no name");
        TriggerType = (string)TriggerBinding["type"]!;
        Kind = TriggerType.ToLowerInvariant() switch
        {
            "httptrigger" => TriggerKind.Http,
            "queuetrigger" => TriggerKind.Queue,
            "timertrigger" => TriggerKind.Timer,
            _ => TriggerKind.Other,
        };
    }

    public string Name => Metadata.Name;

    public string FunctionId => Metadata.FunctionId;

    public TriggerKind Kind { get; }

    /// <summary>The trigger's parameter name: the name its input data carries in an invocation.</summary>
    public string TriggerName { get; }

    public string TriggerType { get; }

    /// <summary>The trigger binding as the worker described it, with %NAME% references resolved.</summary>
    public JsonObject TriggerBinding { get; }

    internal RpcFunctionMetadata Metadata { get; }

    public string? Property(string name) =>
        TriggerBinding.FirstOrDefault(p => p.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value is { } value
            ? value.GetValueKind() == JsonValueKind.String ? (string?)value : value.ToJsonString()
            : null;

    /// <summary>An HTTP trigger's methods (upper case); empty means every method.</summary>
    public IReadOnlyList<string> HttpMethods =>
        (TriggerBinding["methods"]?.AsArray() ?? []).Select(m => ((string?)m ?? "").ToUpperInvariant()).Where(m => m.Length > 0).ToList();

    /// <summary>An HTTP trigger's route template; the function's name when the binding has none, as in the real host.</summary>
    public string Route => Property("route") is { Length: > 0 } route ? route.Trim('/') : Name;

    /// <summary>An HTTP trigger's authorization level: Function when the binding names none, as in the real host.</summary>
    public string AuthLevel => Property("authLevel") is { Length: > 0 } level ? level : "Function";

    private static JsonObject Resolve(JsonObject binding, IReadOnlyDictionary<string, string> settings, string functionName)
    {
        var resolved = new JsonObject();
        foreach (var (key, value) in binding)
        {
            if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
            {
                resolved[key] = SettingReference().Replace((string)v!, m => settings.TryGetValue(m.Groups[1].Value, out string? setting)
                    ? setting
                    : throw new InvalidDataException($"function {functionName}: binding property '{key}' names app setting '{m.Groups[1].Value}', which is not set"));
            }
            else
            {
                resolved[key] = value?.DeepClone();
            }
        }

        return resolved;
    }

    [GeneratedRegex("%([^%]+)%")]
    private static partial Regex SettingReference();
}
