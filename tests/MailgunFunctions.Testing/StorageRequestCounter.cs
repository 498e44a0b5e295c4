using Azure.Core;
using Azure.Core.Pipeline;

namespace MailgunFunctions.Testing;

/// <summary>
/// Counts every storage request that leaves a client (one per attempt, retries included): the cost driver in Azure.
/// Register it as an <see cref="HttpPipelinePolicy"/> service; StorageClients adds it to every client.
/// </summary>
public sealed class StorageRequestCounter : HttpPipelinePolicy
{
    private long _requests;

    public long Requests => Interlocked.Read(ref _requests);

    public void Reset() => Interlocked.Exchange(ref _requests, 0);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Interlocked.Increment(ref _requests);
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Interlocked.Increment(ref _requests);
        return ProcessNextAsync(message, pipeline);
    }
}

/// <summary>
/// A processing host that dies: once armed, every storage request after the next <c>n</c> fails before it is sent,
/// as if the process had been killed between two storage calls (what was written stays written, nothing more is).
/// </summary>
public sealed class StorageCrash : HttpPipelinePolicy
{
    private long _remaining = long.MaxValue;

    public int Crashes { get; private set; }

    public bool Crashed => Interlocked.Read(ref _remaining) < 0;

    private long _refused;

    /// <summary>Requests refused since the start (each attempt of the storage client's retries counts).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Lets <paramref name="requests"/> more requests through, then fails all of them.</summary>
    public void CrashAfter(long requests)
    {
        Interlocked.Exchange(ref _remaining, requests);
        Crashes++;
    }

    public void Disarm() => Interlocked.Exchange(ref _remaining, long.MaxValue);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check();
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Check();
        return ProcessNextAsync(message, pipeline);
    }

    private void Check()
    {
        if (Interlocked.Decrement(ref _remaining) < 0)
        {
            Interlocked.Increment(ref _refused);
            throw new IOException("processing host killed (injected fault)");
        }
    }
}
