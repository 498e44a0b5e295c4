using System.Text;
using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.Logging;

namespace FunctionsHost;

/// <summary>
/// Drives one queue-triggered function as the Storage Queues extension does: polls with back-off up to
/// <c>maxPollingInterval</c>, takes up to <c>batchSize</c> messages and fetches more once no more than
/// <c>newBatchThreshold</c> are running, decodes base64 per <c>messageEncoding</c>, deletes a message its function
/// finished, makes a failed one visible again after <c>visibilityTimeout</c>, and moves it to <c>{queue}-poison</c>
/// (unchanged) once it failed on its <c>maxDequeueCount</c>-th delivery, or arrives with more deliveries than that.
/// </summary>
internal sealed class QueueTrigger : TriggerLoop
{
    /// <summary>How long a received message stays invisible while its function runs (the extension's lease; not renewed here).</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan MinimumPollingInterval = TimeSpan.FromMilliseconds(100);

    private readonly StandInHost _host;
    private readonly HostedFunction _function;
    private readonly ILogger _logger;
    private readonly QueueSettings _settings;
    private readonly QueueClient _queue;
    private readonly QueueClient _poison;
    private int _running;

    private QueueTrigger(StandInHost host, HostedFunction function, ILogger logger)
        : base(host)
    {
        _host = host;
        _function = function;
        _logger = logger;
        _settings = host.HostJson.Queues;
        string queueName = function.Property("queueName") ?? throw new InvalidDataException($"function {function.Name}: the queue trigger names no queueName");
        string connection = ConnectionString(host.Settings, function.Property("connection"));
        // Raw bodies both ways: decoding is done here (so an undecodable message can be parked), and a poison copy is the original, byte for byte.
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None };
        _queue = new QueueClient(connection, queueName, options);
        _poison = new QueueClient(connection, queueName + "-poison", options);
        StartLoop();
    }

    public static QueueTrigger Start(StandInHost host, HostedFunction function, ILogger logger) => new(host, function, logger);

    /// <summary>The connection setting as the extension resolves it: the name itself, else <c>AzureWebJobs{name}</c>; none means AzureWebJobsStorage.</summary>
    internal static string ConnectionString(IReadOnlyDictionary<string, string> settings, string? connection)
    {
        string name = string.IsNullOrWhiteSpace(connection) ? "AzureWebJobsStorage" : connection;
        foreach (string candidate in new[] { name, "AzureWebJobs" + name })
        {
            if (settings.TryGetValue(candidate, out string? value) && value.Length > 0)
            {
                return value;
            }
        }

        throw new MissingConnectionException($"the queue connection setting '{name}' is not set (the stand-in needs a connection string; identity-based connections are not supported)");
    }

    protected override async Task RunAsync(CancellationToken stop)
    {
        var delay = MinimumPollingInterval;
        while (!stop.IsCancellationRequested)
        {
            if (Volatile.Read(ref _running) > _settings.NewBatchThreshold)
            {
                await Task.Delay(MinimumPollingInterval, stop).ConfigureAwait(false);
                continue;
            }

            QueueMessage[] messages;
            try
            {
                messages = (await _queue.ReceiveMessagesAsync(_settings.BatchSize, Lease, stop).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // The queue does not exist yet: as empty, until a producer creates it.
                messages = [];
            }
            catch (Exception ex) when (ex is RequestFailedException or AggregateException or HttpRequestException)
            {
                StandInLog.PollFailed(_logger, _queue.Name, ex.Message.Split('\n')[0]);
                messages = [];
            }

            if (messages.Length == 0)
            {
                await Task.Delay(delay, stop).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Math.Max(_settings.MaxPollingInterval.Ticks, MinimumPollingInterval.Ticks)));
                continue;
            }

            delay = MinimumPollingInterval;
            foreach (var message in messages)
            {
                Interlocked.Increment(ref _running);
                _host.Track(Task.Run(() => HandleAsync(message), CancellationToken.None));
            }
        }
    }

    private async Task HandleAsync(QueueMessage message)
    {
        try
        {
            if (message.DequeueCount > _settings.MaxDequeueCount)
            {
                // Delivered more often than allowed without an outcome (the host crashed mid-run): not tried again.
                await PoisonAsync(message).ConfigureAwait(false);
                return;
            }

            string text;
            try
            {
                text = _settings.Base64 ? Encoding.UTF8.GetString(Convert.FromBase64String(message.Body.ToString())) : message.Body.ToString();
            }
            catch (FormatException)
            {
                StandInLog.Undecodable(_logger, message.MessageId, _queue.Name, _poison.Name);
                await PoisonAsync(message, log: false).ConfigureAwait(false);
                return;
            }

            var (input, metadata) = TriggerData.Queue(_function, message, text);
            var record = await _host.InvokeAsync(_function, $"New queue message detected on '{_queue.Name}'.", input, metadata,
                detail: $"message {message.MessageId}, delivery {message.DequeueCount}").ConfigureAwait(false);
            if (record.Succeeded)
            {
                await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
            }
            else if (message.DequeueCount >= _settings.MaxDequeueCount)
            {
                await PoisonAsync(message).ConfigureAwait(false);
            }
            else
            {
                // Visible again after the retry delay; the next receive counts one more delivery.
                await _queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: _settings.VisibilityTimeout, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // The lease ran out and another delivery took the message over (or it was deleted): its outcome is theirs now.
        }
        catch (Exception ex) when (ex is RequestFailedException or AggregateException or HttpRequestException)
        {
            // Storage failed on the outcome: the message reappears when its lease ends and is delivered again.
            StandInLog.PollFailed(_logger, _queue.Name, ex.Message.Split('\n')[0]);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    private async Task PoisonAsync(QueueMessage message, bool log = true)
    {
        await _poison.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
        await _poison.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None).ConfigureAwait(false);
        await _queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None).ConfigureAwait(false);
        if (log)
        {
            StandInLog.Poisoned(_logger, message.MessageId, _queue.Name, _poison.Name, message.DequeueCount, _settings.MaxDequeueCount);
        }
    }
}

/// <summary>A queue trigger's connection setting is not set: that function cannot listen (the host goes on with the others).</summary>
internal sealed class MissingConnectionException(string message) : InvalidOperationException(message);
