using System.Diagnostics;
using System.Reflection;
using FunctionsHost;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.EndToEnd.Tests;

/// <summary>
/// The app's real worker process (the App's build output of this test run's configuration), started by the host
/// stand-in on a free port over the shared Azurite, with the tests' settings. One per test class: start it in
/// [OneTimeSetUp], dispose it in [OneTimeTearDown] (the worker is stopped, or killed with its children).
/// </summary>
public sealed class RealWorker : IAsyncDisposable
{
    public const string UnsubscribeLinkKey = "k1-e2e-0123456789abcdef0123456789abcdef";

    private RealWorker(StandInHost host, FunctionKeys keys, string storage, IConfiguration configuration, TimeSpan startedIn)
    {
        Host = host;
        Keys = keys;
        Storage = storage;
        StartedIn = startedIn;
        Http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        // The Core's own services over the same storage and settings, to read what the worker wrote.
        Services = TestSettings.Services(configuration, (s, c) => s.AddMailgunCore(c), TimeProvider.System);
    }

    /// <summary>The App's build output these tests start (bin/&lt;Configuration&gt;/net10.0, built with the tests).</summary>
    public static string AppDirectory { get; } = typeof(RealWorker).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "WorkerDirectory").Value!;

    public StandInHost Host { get; }
    public FunctionKeys Keys { get; }
    public string Storage { get; }
    public TimeSpan StartedIn { get; }
    public HttpClient Http { get; }
    public ServiceProvider Services { get; }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>
    /// The worker's app settings: the tests' defaults (signing keys, API key), an unsubscribe link
    /// key, a schedule for the export, and host.json overrides that make queue retries immediate and polling quick.
    /// A null in <paramref name="overrides"/> removes a setting.
    /// </summary>
    public static Dictionary<string, string> Settings(string storage, IDictionary<string, string?>? overrides = null)
    {
        var settings = TestSettings.Defaults(storage).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
        // The app's own storage retries and timeout (the defaults' fail-fast values are for tests of storage that is down):
        // a busy machine's Azurite must not turn a webhook into a 503 here.
        settings.Remove("Storage__MaxRetries");
        settings.Remove("Storage__NetworkTimeout");
        settings["Unsubscribe__Keys__k1"] = UnsubscribeLinkKey;
        settings["Unsubscribe__ActiveKeyId"] = "k1";
        settings["Unsubscribe__BaseUrl"] = "http://127.0.0.1/api/unsubscribe";
        settings["EXPORT_SCHEDULE"] = "0 0 2 * * *";
        settings[HostJson.OverridePrefix + "extensions__queues__visibilityTimeout"] = "00:00:00";
        settings[HostJson.OverridePrefix + "extensions__queues__maxPollingInterval"] = "00:00:00.200";
        foreach (var (name, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[name] = value;
        }

        // As infra/main.bicep does: the queue triggers of shards past Storage__Shards are switched off.
        int shards = settings.TryGetValue("Storage__Shards", out string? k) && int.TryParse(k, out int count) ? count : 1;
        foreach (string function in ShardFunctions(shards))
        {
            settings.TryAdd($"AzureWebJobs.{function}.Disabled", "true");
        }

        return settings.Where(s => s.Value is not null).ToDictionary(s => s.Key, s => s.Value!);
    }

    /// <summary>The per-shard queue functions of the shards a deployment of <paramref name="shards"/> does not have.</summary>
    public static IEnumerable<string> ShardFunctions(int shards) =>
        Enumerable.Range(shards, StorageNames.MaxShards - shards).Where(k => k > 0)
            .SelectMany(k => new[] { $"ProcessMailgunEventShard{k}", $"ProcessMailgunInboundShard{k}" });

    /// <summary>Starts the worker; throws (with the worker's own words) when it cannot start.</summary>
    public static async Task<RealWorker> StartAsync(IDictionary<string, string?>? overrides = null, string? storage = null)
    {
        string shared = await Azurite.SharedConnectionStringAsync();
        storage ??= shared;
        await EmptyAppQueuesAsync(shared);
        var settings = Settings(storage, overrides);
        var keys = FunctionKeys.Generate();
        var watch = Stopwatch.StartNew();
        var host = await StandInHost.StartAsync(Options(settings, keys));
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), (string?)s.Value)))
            .Build();
        var worker = new RealWorker(host, keys, storage, configuration, watch.Elapsed);
        TestContext.Progress.WriteLine($"worker started in {worker.StartedIn.TotalMilliseconds:0} ms");
        return worker;
    }

    /// <summary>
    /// Test projects share one Azurite: what earlier projects left on the app's queues would be processed (or, with
    /// storage down, retried and poisoned) by this worker. Each worker starts on empty queues, as the other projects' tests do.
    /// </summary>
    private static async Task EmptyAppQueuesAsync(string storage)
    {
        foreach (string name in new[] { StorageNames.EventsQueue, StorageNames.EventsPoisonQueue, StorageNames.InboundQueue, StorageNames.InboundPoisonQueue, StorageNames.ExportJobsQueue, StorageNames.ExportJobsPoisonQueue })
        {
            var queue = new Azure.Storage.Queues.QueueClient(storage, name);
            await queue.CreateIfNotExistsAsync();
            await queue.ClearMessagesAsync();
        }
    }

    public static StandInOptions Options(IReadOnlyDictionary<string, string> settings, FunctionKeys keys) => new()
    {
        AppDirectory = File.Exists(Path.Combine(AppDirectory, "worker.config.json"))
            ? AppDirectory
            : throw new InvalidOperationException($"the App's build output is missing at {AppDirectory}: build the solution in this configuration first (scripts/test.sh does)"),
        Settings = settings,
        Keys = keys,
        HttpPort = 0,
        StartTimeout = TimeSpan.FromSeconds(60),
        StopTimeout = TimeSpan.FromSeconds(10),
        LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning).AddProvider(new TestProgressLogger())),
    };

    /// <summary>A URL with the host's default key as <c>?code=</c>, as Mailgun is configured to call the webhooks.</summary>
    public string WithKey(string path) => $"{path}{(path.Contains('?', StringComparison.Ordinal) ? "&" : "?")}code={Uri.EscapeDataString(Keys.DefaultHostKey!)}";

    /// <summary>Polls <paramref name="read"/> until <paramref name="done"/> holds; on timeout fails with what was last read and the worker's logs.</summary>
    public async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        T last = await read();
        while (!done(last))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what}: not reached within {(timeout ?? TimeSpan.FromSeconds(20)).TotalSeconds} s (last: {last}).\n{Diagnostics()}");
            }

            await Task.Delay(100);
            last = await read();
        }

        return last;
    }

    /// <summary>The invocations and the worker's warnings and errors: what a failed test prints.</summary>
    public string Diagnostics() =>
        "Invocations:\n  " + string.Join("\n  ", Host.Invocations.Select(i => $"{i.FunctionName} {i.Reason} {(i.Succeeded ? "ok" : "FAILED " + i.Error)}")) +
        "\nWorker warnings and errors:\n  " + string.Join("\n  ", Host.WorkerLogs.Where(l => l.Level >= LogLevel.Warning || l.FromOutput).TakeLast(40));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Services.DisposeAsync();
        await Host.DisposeAsync();
    }

    /// <summary>The stand-in's warnings and errors, shown in the test output as they happen.</summary>
    private sealed class TestProgressLogger : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                TestContext.Progress.WriteLine($"[{logLevel}] {category}: {formatter(state, exception)}");
        }
    }
}
