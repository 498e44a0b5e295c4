using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace MailgunFunctions.Testing;

/// <summary>
/// Forces two storage clients (two processor instances, each with its own container) into the race a test wants instead of
/// hoping the scheduler makes it: the first write of each instance to the raced rows is held until every instance has
/// read them, and the instance named <see cref="First"/> writes before the other's write is let go. The other's write then
/// meets a row that changed since its read (409 on an insert, 412 on a conditional update), which the code under test must
/// resolve. Register <see cref="For"/> of each instance as an <c>HttpPipelinePolicy</c> service (StorageClients adds it).
/// </summary>
public sealed class StorageRace(Func<Request, bool> isRead, Func<Request, bool> isWrite, string first, params string[] instances)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly Func<Request, bool> _isRead = isRead;
    private readonly Func<Request, bool> _isWrite = isWrite;
    private readonly string[] _instances = instances;
    private readonly ConcurrentDictionary<string, bool> _read = new();
    private readonly ConcurrentDictionary<string, bool> _held = new();
    private readonly TaskCompletionSource _allRead = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstWritten = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<(string Instance, string Method, int Status)> _writes = new();
    private int _timedOut;

    public string First { get; } = first;

    /// <summary>Every write to the raced rows that got an answer, in order: which instance, its method and the status storage answered.</summary>
    public IReadOnlyList<(string Instance, string Method, int Status)> Writes => _writes.ToArray();

    /// <summary>True when a hold ended by waiting too long instead of by the other instance's read or write: the race was not forced.</summary>
    public bool TimedOut => Volatile.Read(ref _timedOut) != 0;

    public HttpPipelinePolicy For(string instance) => new Policy(this, instance);

    /// <summary>A GET of one entity of <paramref name="table"/> (a point read).</summary>
    public static Func<Request, bool> PointRead(string table) => r => r.Method == RequestMethod.Get && r.Uri.Path.Contains("/" + table + "(", StringComparison.Ordinal);

    /// <summary>An insert, update or merge of an entity of <paramref name="table"/>.</summary>
    public static Func<Request, bool> EntityWrite(string table) => r => r.Method != RequestMethod.Get && r.Method != RequestMethod.Delete
        && (r.Uri.Path.EndsWith("/" + table, StringComparison.Ordinal) || r.Uri.Path.Contains("/" + table + "(", StringComparison.Ordinal));

    /// <summary>
    /// An entity-group transaction (POST .../$batch): how a DND entry is written (with its change-log rows) and the sender-issue
    /// counters. Storage answers a batch 202 whatever its actions met; a conflict inside shows in the code's own handling.
    /// </summary>
    public static Func<Request, bool> Batch => r => r.Method == RequestMethod.Post && r.Uri.Path.EndsWith("/$batch", StringComparison.Ordinal);

    /// <summary>
    /// A transaction on <paramref name="table"/>: the batch's body names the table in each action's URL. Other tables'
    /// transactions of the same processing (the daily rates' counters) then do not count as this table's write.
    /// </summary>
    public static Func<Request, bool> BatchOf(string table) => r =>
    {
        if (!Batch(r) || r.Content is null)
        {
            return false;
        }

        using var body = new MemoryStream();
        r.Content.WriteTo(body, CancellationToken.None);
        string text = System.Text.Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length);
        // Each action's request line: ".../Table(PartitionKey=...)" for an update or delete, ".../Table?$format=..." for an insert.
        return text.Contains("/" + table + "(", StringComparison.Ordinal) || text.Contains("/" + table + "?", StringComparison.Ordinal)
            || text.Contains("/" + table + " HTTP", StringComparison.Ordinal);
    };

    private async Task WaitAsync(Task task)
    {
        if (await Task.WhenAny(task, Task.Delay(Patience)).ConfigureAwait(false) != task)
        {
            Interlocked.Exchange(ref _timedOut, 1);
        }
    }

    private sealed class Policy(StorageRace race, string instance) : HttpPipelinePolicy
    {
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (race._isRead(message.Request))
            {
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
                race._read[instance] = true;
                if (race._instances.All(race._read.ContainsKey))
                {
                    race._allRead.TrySetResult();
                }

                return;
            }

            if (!race._isWrite(message.Request))
            {
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
                return;
            }

            // Only each instance's first write is held; its retries after the conflict go straight through.
            bool hold = race._held.TryAdd(instance, true);
            if (hold)
            {
                await race.WaitAsync(race._allRead.Task).ConfigureAwait(false);
                if (instance != race.First)
                {
                    await race.WaitAsync(race._firstWritten.Task).ConfigureAwait(false);
                }
            }

            try
            {
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
                race._writes.Enqueue((instance, message.Request.Method.Method, message.Response.Status));
            }
            finally
            {
                if (hold && instance == race.First)
                {
                    race._firstWritten.TrySetResult();
                }
            }
        }
    }
}
