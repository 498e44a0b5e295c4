using Microsoft.Extensions.Logging;

namespace FunctionsHost;

/// <summary>
/// One finished invocation: what ran, why, and how it ended (the worker's exception message when it failed).
/// <paramref name="Detail"/> names the trigger's item, e.g. a queue message's id and delivery count.
/// </summary>
public sealed record InvocationRecord(string FunctionName, string InvocationId, string Reason, string? Detail, DateTimeOffset StartedAt, TimeSpan Duration, bool Succeeded, string? Error);

/// <summary>One log message of the worker: sent over the gRPC stream (RpcLog), or a line it wrote to stdout/stderr (<see cref="FromOutput"/>).</summary>
public sealed record WorkerLogEntry(DateTimeOffset At, LogLevel Level, string Category, string Message, string? InvocationId, string? Exception, bool FromOutput)
{
    public override string ToString() =>
        $"{Level} {Category}: {Message}{(Exception is null ? "" : " | " + Exception)}";
}

/// <summary>The worker could not be started, or failed before all of its functions were loaded; the message says why, with its own words.</summary>
public sealed class WorkerStartException(string message, Exception? inner = null) : Exception(message, inner);
