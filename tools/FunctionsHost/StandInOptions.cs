using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FunctionsHost;

/// <summary>What one run of the stand-in host needs: the worker's build output, its app settings, keys and ports.</summary>
public sealed class StandInOptions
{
    /// <summary>The app's build output: holds worker.config.json, functions.metadata and host.json.</summary>
    public required string AppDirectory { get; init; }

    /// <summary>
    /// App settings, given to the worker as environment variables (over the stand-in's own environment, which the
    /// worker inherits as it does under the real host) and used by the stand-in itself: connection strings of the
    /// queue triggers, %NAME% in binding properties, <c>AzureFunctionsJobHost__*</c> overrides of host.json.
    /// </summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>Keys the HTTP triggers check per authorization level; null turns the checks off (as <c>func start</c> does without --enableAuth).</summary>
    public FunctionKeys? Keys { get; init; }

    /// <summary>Port for the HTTP triggers and the admin API on 127.0.0.1; 0 takes a free one (see <see cref="StandInHost.BaseAddress"/>).</summary>
    public int HttpPort { get; init; } = 7071;

    /// <summary>How long the worker may take from process start to all functions loaded.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a stop waits for running invocations and for the worker to exit before it is killed.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where the stand-in's own log and the worker's logs go (the worker's also stay in <see cref="StandInHost.WorkerLogs"/>).</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}
