using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using FunctionsHost.Rpc;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FunctionsHost;

/// <summary>
/// A local stand-in for the Azure Functions host: starts the app's real isolated worker, speaks the host's side of
/// the gRPC protocol with it, loads the functions the worker reports, and drives them: HTTP triggers on
/// 127.0.0.1 (routes, route prefix, keys), queue triggers (polling, decoding, retries, poison) and timers. What it
/// emulates and where it differs from the real host: docs/running-locally.md.
/// </summary>
public sealed class StandInHost : IAsyncDisposable
{
    public const string HostVersion = "4.0.0-standin";

    private readonly StandInOptions _options;
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentQueue<WorkerLogEntry> _workerLogs = new();
    private readonly ConcurrentQueue<InvocationRecord> _invocations = new();
    private readonly ConcurrentDictionary<Task, bool> _running = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<IAsyncDisposable> _triggers = [];
    private readonly Lock _waitersGate = new();
    private readonly List<(Func<InvocationRecord, bool> Match, TaskCompletionSource<InvocationRecord> Done)> _waiters = [];
    private readonly string _workerId = Guid.NewGuid().ToString();
    private WebApplication? _grpc;
    private WebApplication? _http;
    private WorkerChannel? _channel;
    private WorkerProcess? _worker;
    private int _disposed;

    private StandInHost(StandInOptions options)
    {
        _options = options;
        _loggers = options.LoggerFactory;
        _logger = _loggers.CreateLogger("FunctionsHost");
        Settings = EffectiveSettings(options.Settings);
        HostJson = HostJson.Load(options.AppDirectory, Settings);
    }

    /// <summary>Where the HTTP triggers and the admin API listen, e.g. <c>http://127.0.0.1:7071/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The functions the worker reported and the stand-in loaded.</summary>
    public IReadOnlyList<HostedFunction> Functions { get; private set; } = [];

    /// <summary>Whether the app setting <c>AzureWebJobs.{name}.Disabled</c> is true: the trigger's listener is then not started.</summary>
    public bool IsDisabled(HostedFunction function) =>
        Settings.TryGetValue($"AzureWebJobs.{function.Name}.Disabled", out string? disabled) && bool.TryParse(disabled, out bool off) && off;

    public HostJson HostJson { get; }

    /// <summary>The app settings as the worker sees them (the environment, then <see cref="StandInOptions.Settings"/> over it).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>Every log message of the worker so far, in order.</summary>
    public IReadOnlyList<WorkerLogEntry> WorkerLogs => _workerLogs.ToArray();

    /// <summary>Every finished invocation so far, in order of completion.</summary>
    public IReadOnlyList<InvocationRecord> Invocations => _invocations.ToArray();

    /// <summary>The worker's process id (for diagnostics, and to check it is gone after a stop).</summary>
    public int WorkerProcessId { get; private set; }

    /// <summary>Completes when the worker process exits, with its exit code.</summary>
    public Task<int> WorkerExited { get; private set; } = Task.FromResult(0);

    internal FunctionKeys? Keys => _options.Keys;

    internal CancellationToken Stopping => _stopping.Token;

    /// <summary>
    /// Starts the worker and everything that drives it. Throws <see cref="WorkerStartException"/> when the worker
    /// exits, reports a failure or is not ready within <see cref="StandInOptions.StartTimeout"/>, with the worker's
    /// own last words; nothing is left running then.
    /// </summary>
    public static async Task<StandInHost> StartAsync(StandInOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var host = new StandInHost(options);
        try
        {
            await host.StartCoreAsync(cancellationToken).ConfigureAwait(false);
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public HostedFunction Function(string name) =>
        Functions.FirstOrDefault(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"no function '{name}' (loaded: {string.Join(", ", Functions.Select(f => f.Name))})", nameof(name));

    /// <summary>
    /// Runs a timer or queue function now and waits for it, as <c>POST /admin/functions/{name}</c> does without
    /// waiting: a timer gets a TimerInfo, a queue function gets <paramref name="input"/> as the message text.
    /// </summary>
    public Task<InvocationRecord> RunNowAsync(string name, string? input = null, CancellationToken cancellationToken = default) =>
        RunNowAsync(Function(name), input, cancellationToken);

    /// <summary>Waits for an invocation (finished before or after the call) that <paramref name="match"/> accepts.</summary>
    public async Task<InvocationRecord> WaitForInvocationAsync(Func<InvocationRecord, bool> match, TimeSpan timeout, string? description = null)
    {
        var done = new TaskCompletionSource<InvocationRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waitersGate)
        {
            if (_invocations.FirstOrDefault(match) is { } already)
            {
                return already;
            }

            _waiters.Add((match, done));
        }

        try
        {
            return await done.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no invocation {description ?? "matching the condition"} finished within {timeout.TotalSeconds:0.#} s. " +
                $"Invocations so far: {string.Join("; ", Invocations.Select(i => $"{i.FunctionName} {(i.Succeeded ? "ok" : "failed: " + i.Error)}"))}");
        }
        finally
        {
            lock (_waitersGate)
            {
                _waiters.RemoveAll(w => w.Done == done);
            }
        }
    }

    /// <summary>Stops the triggers, lets running invocations end, tells the worker to terminate, and kills it (with its children) if it does not.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        var watch = Stopwatch.StartNew();
        await _stopping.CancelAsync().ConfigureAwait(false);
        using var deadline = new CancellationTokenSource(_options.StopTimeout);
        if (_http is not null)
        {
            await StopQuietlyAsync(_http, deadline.Token).ConfigureAwait(false);
        }

        foreach (var trigger in _triggers)
        {
            await trigger.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await Task.WhenAll(_running.Keys).WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WorkerGoneException)
        {
            // Invocations still running at the deadline end with the worker.
        }

        int? exitCode = null;
        if (_worker is not null)
        {
            if (!_worker.HasExited && _channel is not null)
            {
                _channel.Send(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)) } });
            }

            try
            {
                exitCode = await _worker.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // It did not stop by itself: end it and whatever it started.
            }

            _worker.Dispose();
        }

        _channel?.Close();
        if (_grpc is not null)
        {
            await StopQuietlyAsync(_grpc, CancellationToken.None).ConfigureAwait(false);
        }

        AppDomain.CurrentDomain.ProcessExit -= KillWorkerOnExit;
        StandInLog.Stopped(_logger, watch.ElapsedMilliseconds, exitCode);
        _stopping.Dispose();
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StartTimeout);

        _channel = new WorkerChannel(_workerId);
        _channel.Log += OnWorkerLog;
        _grpc = BuildGrpcServer(_channel);
        await _grpc.StartAsync(timeout.Token).ConfigureAwait(false);
        var functionsUri = new Uri(ListeningAddress(_grpc));

        _worker = WorkerProcess.Start(_options.AppDirectory, functionsUri, _workerId, Guid.NewGuid().ToString(), WorkerEnvironment());
        _worker.OutputLine += OnWorkerOutput;
        WorkerProcessId = _worker.Id;
        AppDomain.CurrentDomain.ProcessExit += KillWorkerOnExit;
        WorkerExited = _worker.WaitForExitAsync(CancellationToken.None);
        StandInLog.WorkerStarted(_logger, _worker.Id, _options.AppDirectory);

        await UntilReadyAsync(_channel.Connected, "connect to the host", timeout.Token).ConfigureAwait(false);
        var init = await UntilReadyAsync(_channel.RequestAsync(WorkerChannel.InitKey, new StreamingMessage
        {
            RequestId = Guid.NewGuid().ToString(),
            WorkerInitRequest = new WorkerInitRequest
            {
                HostVersion = HostVersion,
                WorkerDirectory = _options.AppDirectory,
                FunctionAppDirectory = _options.AppDirectory,
            },
        }, timeout.Token), "initialize", timeout.Token).ConfigureAwait(false);
        EnsureSuccess(init.WorkerInitResponse.Result, "initialization");
        string workerVersion = init.WorkerInitResponse.WorkerMetadata?.WorkerVersion is { Length: > 0 } v ? v : init.WorkerInitResponse.WorkerVersion;
        var workerHttp = init.WorkerInitResponse.Capabilities.TryGetValue("HttpUri", out string? uri) ? new Uri(uri) : null;

        var metadata = await UntilReadyAsync(_channel.RequestAsync(WorkerChannel.MetadataKey, new StreamingMessage
        {
            RequestId = Guid.NewGuid().ToString(),
            FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = _options.AppDirectory },
        }, timeout.Token), "report its functions", timeout.Token).ConfigureAwait(false);
        var reported = metadata.FunctionMetadataResponse;
        EnsureSuccess(reported.Result, "function indexing");
        if (reported.UseDefaultMetadataIndexing)
        {
            throw new WorkerStartException("the worker asked the host to index its functions from functions.metadata; the stand-in only supports worker indexing (Worker 2.x's default)");
        }

        Functions = reported.FunctionMetadataResults.Select(m => new HostedFunction(m, Settings)).ToList();
        await Task.WhenAll(Functions.Select(f => LoadAsync(f, timeout.Token))).ConfigureAwait(false);
        if (workerHttp is null && Functions.Any(f => f.Kind == TriggerKind.Http))
        {
            throw new WorkerStartException("the worker did not report an HttpUri capability: HTTP triggers need ASP.NET Core integration (ConfigureFunctionsWebApplication)");
        }

        _http = HttpTriggers.Build(this, workerHttp, _options.HttpPort, _loggers);
        try
        {
            await _http.StartAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new WorkerStartException($"cannot listen on 127.0.0.1:{_options.HttpPort} ({ex.Message}): stop what uses it, or choose another port", ex);
        }

        BaseAddress = new Uri(ListeningAddress(_http).TrimEnd('/') + "/");
        foreach (var function in Functions)
        {
            // As the Functions host: AzureWebJobs.{name}.Disabled=true leaves the trigger's listener unstarted (the function
            // still runs through the admin API), and a trigger whose connection is missing fails alone, not the host.
            if (IsDisabled(function))
            {
                StandInLog.FunctionDisabled(_logger, function.Name);
                continue;
            }

            switch (function.Kind)
            {
                case TriggerKind.Queue:
                    try
                    {
                        _triggers.Add(QueueTrigger.Start(this, function, _loggers.CreateLogger("FunctionsHost.Queues")));
                    }
                    catch (MissingConnectionException ex)
                    {
                        StandInLog.TriggerNotStarted(_logger, function.Name, ex.Message);
                    }

                    break;
                case TriggerKind.Timer:
                    _triggers.Add(TimerTrigger.Start(this, function, _loggers.CreateLogger("FunctionsHost.Timers")));
                    break;
                case TriggerKind.Other:
                    StandInLog.UndrivenTrigger(_logger, function.Name, function.TriggerType);
                    break;
            }
        }

        _ = WorkerExited.ContinueWith(t => OnWorkerExited(t.Result), TaskScheduler.Default);
        StandInLog.FunctionsLoaded(_logger, workerVersion, Functions.Count, watch.ElapsedMilliseconds);
    }

    /// <summary>Sends an invocation, waits for the worker's answer, logs and records it.</summary>
    internal async Task<InvocationRecord> InvokeAsync(HostedFunction function, string reason, ParameterBinding input, IDictionary<string, TypedData> triggerMetadata,
        string? invocationId = null, string? detail = null, CancellationToken cancellationToken = default)
    {
        invocationId ??= Guid.NewGuid().ToString();
        var started = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        var request = new InvocationRequest
        {
            InvocationId = invocationId,
            FunctionId = function.FunctionId,
            // The worker fails every invocation that has no trace context.
            TraceContext = new RpcTraceContext { TraceParent = $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01" },
        };
        request.InputData.Add(input);
        foreach (var (name, value) in triggerMetadata)
        {
            request.TriggerMetadata[name] = value;
        }

        request.TriggerMetadata["sys"] = TriggerData.Sys(function, started);
        StandInLog.Executing(_logger, function.Name, reason, invocationId);
        bool succeeded;
        string? error;
        try
        {
            var answer = await _channel!.RequestAsync(WorkerChannel.InvocationKey(invocationId), new StreamingMessage { InvocationRequest = request }, cancellationToken).ConfigureAwait(false);
            var result = answer.InvocationResponse.Result;
            succeeded = result?.Status == StatusResult.Types.Status.Success;
            error = succeeded ? null : Describe(result);
        }
        catch (WorkerGoneException ex)
        {
            (succeeded, error) = (false, ex.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _channel!.Send(new StreamingMessage { InvocationCancel = new InvocationCancel { InvocationId = invocationId } });
            (succeeded, error) = (false, "cancelled by the host");
        }

        var record = new InvocationRecord(function.Name, invocationId, reason, detail, started, watch.Elapsed, succeeded, error);
        if (succeeded)
        {
            StandInLog.Succeeded(_logger, function.Name, invocationId, (long)record.Duration.TotalMilliseconds);
        }
        else
        {
            StandInLog.Failed(_logger, function.Name, invocationId, (long)record.Duration.TotalMilliseconds, error ?? "");
        }

        Record(record);
        return record;
    }

    /// <summary>Runs <paramref name="work"/> in the background, so a stop waits for it.</summary>
    internal void Track(Task work)
    {
        _running.TryAdd(work, true);
        _ = work.ContinueWith(t => _running.TryRemove(t, out _), TaskScheduler.Default);
    }

    internal async Task<InvocationRecord> RunNowAsync(HostedFunction function, string? input, CancellationToken cancellationToken)
    {
        switch (function.Kind)
        {
            case TriggerKind.Timer:
                return await _triggers.OfType<TimerTrigger>().Single(t => t.Function == function).RunAsync("Manual", cancellationToken).ConfigureAwait(false);
            case TriggerKind.Queue:
                var message = Azure.Storage.Queues.Models.QueuesModelFactory.QueueMessage(Guid.NewGuid().ToString(), "", input ?? "", 1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(7));
                var (data, metadata) = TriggerData.Queue(function, message, input ?? "");
                return await InvokeAsync(function, "Manual", data, metadata, cancellationToken: cancellationToken).ConfigureAwait(false);
            default:
                throw new InvalidOperationException($"function {function.Name} has a {function.TriggerType} trigger: call it at its route, or it cannot be run on demand");
        }
    }

    private static string Describe(StatusResult? result) =>
        result?.Exception is { } ex && (ex.Message.Length > 0 || ex.Type.Length > 0)
            ? (ex.Type.Length > 0 ? ex.Type + ": " : "") + ex.Message
            : result?.Result is { Length: > 0 } text ? text : $"status {result?.Status.ToString() ?? "missing"}";

    private void EnsureSuccess(StatusResult? result, string step)
    {
        if (result?.Status != StatusResult.Types.Status.Success)
        {
            throw new WorkerStartException($"the worker reported a failure during {step}: {Describe(result)}{LastWords()}");
        }
    }

    private async Task LoadAsync(HostedFunction function, CancellationToken cancellationToken)
    {
        // The metadata goes back exactly as the worker sent it (fields this host does not know included).
        var answer = await UntilReadyAsync(_channel!.RequestAsync(WorkerChannel.LoadKey(function.FunctionId), new StreamingMessage
        {
            RequestId = Guid.NewGuid().ToString(),
            FunctionLoadRequest = new FunctionLoadRequest { FunctionId = function.FunctionId, Metadata = function.Metadata },
        }, cancellationToken), $"load function {function.Name}", cancellationToken).ConfigureAwait(false);
        EnsureSuccess(answer.FunctionLoadResponse.Result, $"loading of function {function.Name}");
    }

    /// <summary>Waits for a step of the start-up, turning the worker's exit or the deadline into a start-up failure that quotes the worker.</summary>
    private async Task UntilReadyAsync(Task step, string what, CancellationToken timeout)
    {
        var finished = await Task.WhenAny(step, WorkerExited, Task.Delay(Timeout.Infinite, timeout)).ConfigureAwait(false);
        if (finished == step)
        {
            await step.ConfigureAwait(false);
            return;
        }

        if (finished == WorkerExited)
        {
            // Let the last lines of output and logs arrive before quoting them.
            await Task.Delay(200, CancellationToken.None).ConfigureAwait(false);
            throw new WorkerStartException($"the worker exited with code {WorkerExited.Result} before it could {what}{LastWords()}");
        }

        throw new WorkerStartException($"the worker did not {what} within {_options.StartTimeout.TotalSeconds:0.#} s of its start{LastWords()}");
    }

    private async Task<StreamingMessage> UntilReadyAsync(Task<StreamingMessage> step, string what, CancellationToken timeout)
    {
        await UntilReadyAsync((Task)step, what, timeout).ConfigureAwait(false);
        return await step.ConfigureAwait(false);
    }

    /// <summary>The worker's errors and last output lines, to quote in a start-up failure.</summary>
    private string LastWords()
    {
        var errors = _workerLogs.Where(l => l.Level >= LogLevel.Error).Select(l => l.ToString()).ToList();
        // Stack frames say where, the exception's own line says what: keep the latter.
        var output = (_worker?.LastLines ?? []).Where(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal) && !l.TrimStart().StartsWith("--- End of", StringComparison.Ordinal))
            .TakeLast(20).ToList();
        var text = new StringBuilder();
        if (errors.Count > 0)
        {
            text.Append("\nWorker errors:\n  ").AppendJoin("\n  ", errors);
        }

        if (output.Count > 0)
        {
            text.Append("\nWorker output (last lines):\n  ").AppendJoin("\n  ", output);
        }

        return text.ToString();
    }

    private void OnWorkerLog(RpcLog log)
    {
        var level = (LogLevel)(int)log.Level;
        var entry = new WorkerLogEntry(DateTimeOffset.UtcNow, level, log.Category, log.Message, log.InvocationId.Length > 0 ? log.InvocationId : null,
            log.Exception is { } ex ? $"{ex.Type} {ex.Message}\n{ex.StackTrace}".Trim() : null, FromOutput: false);
        _workerLogs.Enqueue(entry);
        var logger = _loggers.CreateLogger("Worker." + (log.Category.Length > 0 ? log.Category : "Host"));
        string exception = entry.Exception is null ? "" : "\n" + entry.Exception;
        StandInLog.WorkerLog(logger, level, log.Message, exception);
    }

    private void OnWorkerOutput(string line)
    {
        // A worker that fails before its gRPC connection (or crashes) can only say so on stdout/stderr.
        var entry = new WorkerLogEntry(DateTimeOffset.UtcNow, LogLevel.Information, "Worker.Output", line, null, null, FromOutput: true);
        _workerLogs.Enqueue(entry);
        StandInLog.WorkerOutput(_loggers.CreateLogger("Worker.Output"), line);
    }

    private void OnWorkerExited(int exitCode)
    {
        if (!_stopping.IsCancellationRequested)
        {
            StandInLog.WorkerExited(_logger, exitCode);
        }
    }

    private void Record(InvocationRecord record)
    {
        lock (_waitersGate)
        {
            _invocations.Enqueue(record);
            foreach (var waiter in _waiters.Where(w => w.Match(record)).ToList())
            {
                waiter.Done.TrySetResult(record);
            }
        }
    }

    /// <summary>If the process using the stand-in ends without disposing it (a test run aborted), the worker must not outlive it.</summary>
    private void KillWorkerOnExit(object? sender, EventArgs e) => _worker?.Kill();

    private Dictionary<string, string> WorkerEnvironment()
    {
        var environment = new Dictionary<string, string>(_options.Settings, StringComparer.Ordinal);
        // What the host sets for every worker; AZURE_FUNCTIONS_ENVIRONMENT as Core Tools sets it for a local run.
        environment.TryAdd("FUNCTIONS_WORKER_RUNTIME", "dotnet-isolated");
        environment.TryAdd("AZURE_FUNCTIONS_ENVIRONMENT", "Development");
        environment["FUNCTIONS_APPLICATION_DIRECTORY"] = _options.AppDirectory;
        environment["FUNCTIONS_WORKER_DIRECTORY"] = _options.AppDirectory;
        return environment;
    }

    private static Dictionary<string, string> EffectiveSettings(IReadOnlyDictionary<string, string> settings)
    {
        var effective = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            effective[(string)variable.Key] = (string?)variable.Value ?? "";
        }

        foreach (var (name, value) in settings)
        {
            effective[name] = value;
        }

        return effective;
    }

    private static WebApplication BuildGrpcServer(WorkerChannel channel)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddSingleton(channel);
        builder.Services.AddGrpc(grpc =>
        {
            // The worker may send large messages (metadata, logs with payloads); the real host sets no limit either.
            grpc.MaxReceiveMessageSize = null;
            grpc.MaxSendMessageSize = null;
        });
        var app = builder.Build();
        app.MapGrpcService<FunctionRpcService>();
        return app;
    }

    private static string ListeningAddress(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();

    private static async Task StopQuietlyAsync(WebApplication app, CancellationToken cancellationToken)
    {
        try
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped as far as the deadline allowed.
        }

        await app.DisposeAsync().ConfigureAwait(false);
    }
}
