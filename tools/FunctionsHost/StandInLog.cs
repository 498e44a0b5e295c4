using Microsoft.Extensions.Logging;

namespace FunctionsHost;

/// <summary>The stand-in's own log events (ids 90xx), worded like the real host's where it has the same event.</summary>
internal static partial class StandInLog
{
    [LoggerMessage(9001, LogLevel.Information, "Worker process started (pid {ProcessId}): {AppDirectory}")]
    public static partial void WorkerStarted(ILogger logger, int processId, string appDirectory);

    [LoggerMessage(9002, LogLevel.Information, "Worker {WorkerVersion} initialized; {Count} functions loaded in {ElapsedMs} ms")]
    public static partial void FunctionsLoaded(ILogger logger, string workerVersion, int count, long elapsedMs);

    [LoggerMessage(9003, LogLevel.Information, "Executing 'Functions.{Function}' (Reason='{Reason}', Id={InvocationId})")]
    public static partial void Executing(ILogger logger, string function, string reason, string invocationId);

    [LoggerMessage(9004, LogLevel.Information, "Executed 'Functions.{Function}' (Succeeded, Id={InvocationId}, Duration={DurationMs}ms)")]
    public static partial void Succeeded(ILogger logger, string function, string invocationId, long durationMs);

    [LoggerMessage(9005, LogLevel.Error, "Executed 'Functions.{Function}' (Failed, Id={InvocationId}, Duration={DurationMs}ms): {Error}")]
    public static partial void Failed(ILogger logger, string function, string invocationId, long durationMs, string error);

    [LoggerMessage(9006, LogLevel.Warning, "Message {MessageId} of queue '{Queue}' moved to '{PoisonQueue}' after {DequeueCount} deliveries (maxDequeueCount {MaxDequeueCount})")]
    public static partial void Poisoned(ILogger logger, string messageId, string queue, string poisonQueue, long dequeueCount, int maxDequeueCount);

    [LoggerMessage(9007, LogLevel.Warning, "Message {MessageId} of queue '{Queue}' is not valid base64 (host.json messageEncoding): moved to '{PoisonQueue}'")]
    public static partial void Undecodable(ILogger logger, string messageId, string queue, string poisonQueue);

    [LoggerMessage(9008, LogLevel.Warning, "Polling queue '{Queue}' failed; retrying: {Error}")]
    public static partial void PollFailed(ILogger logger, string queue, string error);

    [LoggerMessage(9009, LogLevel.Information, "Timer '{Function}' schedule '{Schedule}' (UTC); next run {Next:O}")]
    public static partial void TimerScheduled(ILogger logger, string function, string schedule, DateTimeOffset next);

    [LoggerMessage(9010, LogLevel.Error, "The worker process exited with code {ExitCode} while the host was running; restart the host")]
    public static partial void WorkerExited(ILogger logger, int exitCode);

    [LoggerMessage(9011, LogLevel.Warning, "Request to 'Functions.{Function}' could not be forwarded to the worker: {Error}")]
    public static partial void ForwardFailed(ILogger logger, string function, string error);

    [LoggerMessage(9012, LogLevel.Information, "Host stopped in {ElapsedMs} ms (worker exit code {ExitCode})")]
    public static partial void Stopped(ILogger logger, long elapsedMs, int? exitCode);

    [LoggerMessage(9013, LogLevel.Warning, "Function '{Function}' has a '{TriggerType}' trigger, which the stand-in does not drive: it runs only through the admin API")]
    public static partial void UndrivenTrigger(ILogger logger, string function, string triggerType);

    [LoggerMessage(9016, LogLevel.Information, "Function '{Function}' is disabled (app setting AzureWebJobs.{Function}.Disabled): its trigger is not started")]
    public static partial void FunctionDisabled(ILogger logger, string function);

    [LoggerMessage(9017, LogLevel.Error, "Function '{Function}' cannot start its trigger: {Error}")]
    public static partial void TriggerNotStarted(ILogger logger, string function, string error);

    // The worker's own log lines, at the level the worker gave them (as the Functions host forwards them).
    [LoggerMessage(EventId = 9014, Message = "{Message}{Exception}")]
    public static partial void WorkerLog(ILogger logger, LogLevel level, string message, string exception);

    // What the worker wrote to stdout or stderr.
    [LoggerMessage(9015, LogLevel.Information, "{Line}")]
    public static partial void WorkerOutput(ILogger logger, string line);
}
