using Azure.Core;
using Azure.Core.Pipeline;

namespace MailgunFunctions.Testing;

/// <summary>
/// A storage fault on chosen requests only (e.g. the send to one queue), so an outage can hit exactly one step of a
/// flow instead of whatever a stopped emulator happens to meet. Register it as an <see cref="HttpPipelinePolicy"/>
/// service; StorageClients adds it to every client, once per attempt.
/// </summary>
public sealed class StorageFault : HttpPipelinePolicy
{
    private readonly Func<Request, bool> _matches;
    private long _armed;
    private long _seen;
    private long _failed;

    /// <param name="matches">Which requests the fault may hit.</param>
    /// <param name="afterSend">
    /// False: the request fails before it leaves (nothing reaches storage). True: it reaches storage and is carried out,
    /// then the answer is lost (the caller sees a failure of something that did happen).
    /// </param>
    public StorageFault(Func<Request, bool> matches, bool afterSend = false)
    {
        _matches = matches;
        AfterSend = afterSend;
    }

    public bool AfterSend { get; }

    /// <summary>Matching requests seen so far (failed or not).</summary>
    public long Seen => Interlocked.Read(ref _seen);

    /// <summary>Matching requests this fault failed.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>The next <paramref name="requests"/> matching requests fail.</summary>
    public void FailNext(int requests) => Interlocked.Exchange(ref _armed, requests);

    /// <summary>A message sent to queue <paramref name="queue"/> (POST .../{queue}/messages).</summary>
    public static Func<Request, bool> QueueSend(string queue) => r =>
        r.Method == RequestMethod.Post && r.Uri.Path.EndsWith("/" + queue + "/messages", StringComparison.Ordinal);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        bool fail = false;
        if (_matches(message.Request))
        {
            Interlocked.Increment(ref _seen);
            fail = Interlocked.Decrement(ref _armed) >= 0;
            if (!fail)
            {
                Interlocked.Exchange(ref _armed, 0);
            }
        }

        if (fail && !AfterSend)
        {
            Interlocked.Increment(ref _failed);
            throw new IOException("storage unreachable (injected fault, request not sent)");
        }

        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        if (fail)
        {
            Interlocked.Increment(ref _failed);
            throw new IOException("connection lost before the answer (injected fault, request carried out)");
        }
    }
}
