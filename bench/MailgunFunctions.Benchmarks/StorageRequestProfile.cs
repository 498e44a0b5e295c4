using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// Counts and times the storage requests of a run by kind (method, service, table or queue, point or batch), so a slow
/// run can say which requests took the time: ours (how many) or the emulator's (how long each).
/// </summary>
public sealed class StorageRequestProfile(int tablePort) : HttpPipelinePolicy
{
    private readonly ConcurrentDictionary<string, Totals> _kinds = new(StringComparer.Ordinal);

    public void Reset() => _kinds.Clear();

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            ProcessNext(message, pipeline);
        }
        finally
        {
            Record(message, started);
        }
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        }
        finally
        {
            Record(message, started);
        }
    }

    /// <summary>A Markdown table: kind, requests per item, mean ms per request, share of all request time.</summary>
    public string Table(int items)
    {
        var rows = _kinds.OrderByDescending(k => k.Value.Ticks).ToList();
        double all = rows.Sum(r => (double)r.Value.Ticks);
        var text = new StringBuilder()
            .AppendLine("| Storage request | Per item | Mean ms | Share of request time |")
            .AppendLine("|---|---:|---:|---:|");
        foreach (var (kind, totals) in rows)
        {
            double ms = totals.Ticks * 1000.0 / Stopwatch.Frequency / Math.Max(1, totals.Count);
            text.AppendLine($"| {kind} | {totals.Count / (double)items:F2} | {ms:F1} | {totals.Ticks / Math.Max(1, all):P0} |");
        }

        return text.ToString();
    }

    /// <summary>Every request of the run so far.</summary>
    public long Total => _kinds.Values.Sum(t => Interlocked.Read(ref t.Count));

    /// <summary>One line: each kind with its requests per item, most frequent first ("POST table DndHistory 1.00; ...").</summary>
    public string Summary(int items) => string.Join("; ", _kinds.OrderByDescending(k => k.Value.Count).ThenBy(k => k.Key, StringComparer.Ordinal)
        .Select(k => $"{k.Key} {k.Value.Count / (double)items:F2}"));

    private void Record(HttpMessage message, long started)
    {
        var totals = _kinds.GetOrAdd(Kind(message.Request), _ => new Totals());
        Interlocked.Increment(ref totals.Count);
        Interlocked.Add(ref totals.Ticks, Stopwatch.GetTimestamp() - started);
    }

    // "DELETE table dndentries (point)", "POST table $batch", "POST queue dnd-changes/messages"...: the path without keys.
    private string Kind(Request request)
    {
        string path = request.Uri.Path.Trim('/');
        string[] parts = path.Split('/');
        // Azurite's paths start with the account name (devstoreaccount1).
        string resource = parts.Length > 1 ? string.Join('/', parts.Skip(1)) : path;
        bool table = request.Uri.Port == tablePort;
        int key = resource.IndexOf('(', StringComparison.Ordinal);
        string name = key < 0 ? resource : resource[..key] + (resource[(key + 1)..].StartsWith(')') ? " (query)" : " (point)");
        return $"{request.Method} {(table ? "table" : "queue")} {name}";
    }

    private sealed class Totals
    {
        public long Count;
        public long Ticks;
    }
}
