using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues.Models;
using FunctionsHost.Rpc;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;

namespace FunctionsHost;

/// <summary>
/// What an invocation carries for each kind of trigger, in the shapes the isolated worker reads. Numbers always go
/// as JSON: the worker's converters reject <c>TypedData.int</c> and <c>double</c>.
/// </summary>
internal static class TriggerData
{
    /// <summary>
    /// An HTTP trigger under ASP.NET Core integration: the worker takes the request itself from the forwarded HTTP
    /// call, so the input is the request line and headers only; route values go in trigger metadata (the worker
    /// does not parse the URL), with the query and headers, as the real host sends them.
    /// </summary>
    public static (ParameterBinding Input, Dictionary<string, TypedData> Metadata) Http(HostedFunction function, HttpRequest request)
    {
        var http = new RpcHttp { Method = request.Method, Url = request.GetEncodedUrl() };
        foreach (var (name, values) in request.Headers)
        {
            http.Headers[name.ToLowerInvariant()] = values.ToString();
        }

        foreach (var (name, values) in request.Query)
        {
            http.Query[name] = values.ToString();
        }

        var metadata = new Dictionary<string, TypedData>(StringComparer.Ordinal);
        foreach (var (name, value) in request.RouteValues)
        {
            if (value?.ToString() is { } text)
            {
                http.Params[name] = text;
                metadata[name] = new TypedData { String = text };
            }
        }

        metadata["Query"] = Json(new JsonObject(http.Query.Select(q => KeyValuePair.Create(q.Key, (JsonNode?)q.Value))));
        metadata["Headers"] = Json(new JsonObject(http.Headers.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)h.Value))));
        return (new ParameterBinding { Name = function.TriggerName, Data = new TypedData { Http = http } }, metadata);
    }

    /// <summary>
    /// A queue trigger: the message as model binding data (the worker builds the storage SDK's QueueMessage from it;
    /// the text already decoded), plus the trigger metadata the real host sends for a queue message.
    /// </summary>
    public static (ParameterBinding Input, Dictionary<string, TypedData> Metadata) Queue(HostedFunction function, QueueMessage message, string text)
    {
        var content = new JsonObject
        {
            ["MessageId"] = message.MessageId,
            ["PopReceipt"] = message.PopReceipt,
            ["MessageText"] = text,
            ["DequeueCount"] = message.DequeueCount,
            ["InsertedOn"] = message.InsertedOn,
            ["ExpiresOn"] = message.ExpiresOn,
            ["NextVisibleOn"] = message.NextVisibleOn,
        };
        var input = new TypedData
        {
            ModelBindingData = new ModelBindingData
            {
                Version = "1.0",
                Source = "AzureStorageQueues",
                ContentType = "application/json",
                Content = ByteString.CopyFromUtf8(content.ToJsonString()),
            },
        };
        var metadata = new Dictionary<string, TypedData>(StringComparer.Ordinal)
        {
            ["QueueTrigger"] = new TypedData { String = text },
            ["Id"] = new TypedData { String = message.MessageId },
            ["PopReceipt"] = new TypedData { String = message.PopReceipt ?? "" },
            ["DequeueCount"] = Json(JsonValue.Create(message.DequeueCount)),
            ["InsertionTime"] = Json(JsonValue.Create(message.InsertedOn)),
            ["ExpirationTime"] = Json(JsonValue.Create(message.ExpiresOn)),
            ["NextVisibleTime"] = Json(JsonValue.Create(message.NextVisibleOn)),
        };
        return (new ParameterBinding { Name = function.TriggerName, Data = input }, metadata);
    }

    /// <summary>A timer trigger: TimerInfo as JSON, the shape the worker deserializes.</summary>
    public static (ParameterBinding Input, Dictionary<string, TypedData> Metadata) Timer(HostedFunction function, DateTimeOffset? last, DateTimeOffset? next, bool isPastDue)
    {
        var timerInfo = new JsonObject
        {
            ["Schedule"] = new JsonObject { ["AdjustForDST"] = true },
            ["ScheduleStatus"] = new JsonObject
            {
                ["Last"] = (last ?? DateTimeOffset.MinValue).UtcDateTime.ToString("o", CultureInfo.InvariantCulture),
                ["Next"] = (next ?? DateTimeOffset.MinValue).UtcDateTime.ToString("o", CultureInfo.InvariantCulture),
                ["LastUpdated"] = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            },
            ["IsPastDue"] = isPastDue,
        };
        return (new ParameterBinding { Name = function.TriggerName, Data = Json(timerInfo) }, new Dictionary<string, TypedData>(StringComparer.Ordinal));
    }

    /// <summary>The <c>sys</c> metadata every invocation of the real host carries.</summary>
    public static TypedData Sys(HostedFunction function, DateTimeOffset now) => Json(new JsonObject
    {
        ["MethodName"] = function.Name,
        ["UtcNow"] = now.UtcDateTime.ToString("o", CultureInfo.InvariantCulture),
        ["RandGuid"] = Guid.NewGuid().ToString(),
    });

    public static string Text(TypedData? data) => data?.DataCase switch
    {
        TypedData.DataOneofCase.String => data.String,
        TypedData.DataOneofCase.Json => data.Json,
        TypedData.DataOneofCase.Bytes => Encoding.UTF8.GetString(data.Bytes.Span),
        null or TypedData.DataOneofCase.None => "",
        _ => data.ToString(),
    };

    private static TypedData Json(JsonNode? node) => new() { Json = node?.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) ?? "null" };
}
