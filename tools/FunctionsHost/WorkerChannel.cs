using System.Collections.Concurrent;
using System.Threading.Channels;
using FunctionsHost.Rpc;
using Grpc.Core;

namespace FunctionsHost;

/// <summary>
/// The host's end of the worker's one bidirectional gRPC stream: sends requests, matches each answer to the
/// request waiting for it, and hands the worker's logs to <see cref="Log"/>. A single writer loop, because a
/// gRPC stream takes one write at a time.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The token source has no timer to release: Close cancels it, and a disposed source would throw in requests still finishing.")]
internal sealed class WorkerChannel(string workerId)
{
    private readonly Channel<StreamingMessage> _outgoing = Channel.CreateUnbounded<StreamingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _waiting = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _shutdown = new();
    private int _streams;

    /// <summary>Every log message the worker sends over the stream.</summary>
    public event Action<RpcLog>? Log;

    /// <summary>Completes when the worker opened its stream and identified itself.</summary>
    public Task Connected => _connected.Task;

    /// <summary>Completes when the stream ended (the worker exited or the host stopped).</summary>
    public Task Closed => _closed.Task;

    /// <summary>Runs one EventStream call (the service method), until the worker or the host ends it.</summary>
    public async Task RunAsync(IAsyncStreamReader<StreamingMessage> incoming, IServerStreamWriter<StreamingMessage> outgoing, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _streams) > 1)
        {
            throw new Grpc.Core.RpcException(new Status(StatusCode.AlreadyExists, "this host serves one worker, and it is already connected"));
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        var writer = WriteAllAsync(outgoing, stop.Token);
        try
        {
            await foreach (var message in incoming.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                Receive(message);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The host is stopping.
        }
        catch (IOException)
        {
            // The worker went away mid-read.
        }
        finally
        {
            _closed.TrySetResult();
            _outgoing.Writer.TryComplete();
            foreach (var waiting in _waiting.Values)
            {
                waiting.TrySetException(new WorkerGoneException("the worker closed its connection to the host"));
            }

            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await writer.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
            {
                // The stream is gone; nothing is left to send.
            }
        }
    }

    /// <summary>Sends <paramref name="message"/> and waits for the worker's answer with the same key.</summary>
    public async Task<StreamingMessage> RequestAsync(string key, StreamingMessage message, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_waiting.TryAdd(key, answer))
        {
            throw new InvalidOperationException($"a request '{key}' is already waiting for its answer");
        }

        try
        {
            if (_closed.Task.IsCompleted || !_outgoing.Writer.TryWrite(message))
            {
                throw new WorkerGoneException("the worker is not connected");
            }

            return await answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _waiting.TryRemove(key, out _);
        }
    }

    /// <summary>Ends the stream from the host's side (after the worker was told to terminate, or was killed).</summary>
    public void Close()
    {
        _shutdown.Cancel();
        _closed.TrySetResult();
    }

    /// <summary>Sends a message that has no answer (WorkerTerminate, InvocationCancel).</summary>
    public bool Send(StreamingMessage message) => !_closed.Task.IsCompleted && _outgoing.Writer.TryWrite(message);

    public static string InvocationKey(string invocationId) => "invocation:" + invocationId;

    public static string LoadKey(string functionId) => "load:" + functionId;

    public const string InitKey = "init";
    public const string MetadataKey = "metadata";

    private void Receive(StreamingMessage message)
    {
        switch (message.ContentCase)
        {
            case StreamingMessage.ContentOneofCase.StartStream:
                if (message.StartStream.WorkerId == workerId)
                {
                    _connected.TrySetResult();
                }

                break;
            case StreamingMessage.ContentOneofCase.RpcLog:
                Log?.Invoke(message.RpcLog);
                break;
            case StreamingMessage.ContentOneofCase.WorkerInitResponse:
                Answer(InitKey, message);
                break;
            case StreamingMessage.ContentOneofCase.FunctionMetadataResponse:
                Answer(MetadataKey, message);
                break;
            case StreamingMessage.ContentOneofCase.FunctionLoadResponse:
                Answer(LoadKey(message.FunctionLoadResponse.FunctionId), message);
                break;
            case StreamingMessage.ContentOneofCase.InvocationResponse:
                Answer(InvocationKey(message.InvocationResponse.InvocationId), message);
                break;
            default:
                // Messages the stand-in does not use (status, heartbeats) are ignored, as unknown ones must be.
                break;
        }
    }

    private void Answer(string key, StreamingMessage message)
    {
        if (_waiting.TryGetValue(key, out var waiting))
        {
            waiting.TrySetResult(message);
        }
    }

    private async Task WriteAllAsync(IServerStreamWriter<StreamingMessage> outgoing, CancellationToken cancellationToken)
    {
        await foreach (var message in _outgoing.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await outgoing.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>The gRPC service the worker calls; every call is handed to the one <see cref="WorkerChannel"/>.</summary>
internal sealed class FunctionRpcService(WorkerChannel channel) : FunctionRpc.FunctionRpcBase
{
    public override Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context) =>
        channel.RunAsync(requestStream, responseStream, context.CancellationToken);
}

/// <summary>The worker process is gone or disconnected: nothing can be invoked any more.</summary>
public sealed class WorkerGoneException(string message) : Exception(message);
