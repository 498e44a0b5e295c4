using System.CommandLine;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace FunctionsHost;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var app = new Option<DirectoryInfo>("--app") { Description = "The app's build output (holds worker.config.json and host.json), e.g. functions/MailgunFunctions.App/bin/Debug/net10.0.", Required = true };
        var settings = new Option<FileInfo?>("--settings") { Description = "A local.settings.json: its \"Values\" become app settings, except those already set in the environment (as Core Tools does)." };
        var keys = new Option<FileInfo>("--keys") { Description = "The function keys file; created with random keys when missing.", DefaultValueFactory = _ => new FileInfo("local.keys.json") };
        var noAuth = new Option<bool>("--no-auth") { Description = "Do not check function keys (as 'func start' without --enableAuth)." };
        var port = new Option<int>("--port") { Description = "HTTP port on 127.0.0.1 for the triggers and the admin API.", DefaultValueFactory = _ => 7071 };
        var root = new RootCommand("Local stand-in for the Azure Functions host: runs the app's real isolated worker and drives its HTTP, queue and timer triggers.")
        {
            app, settings, keys, noAuth, port,
        };
        root.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(app)!, parse.GetValue(settings), parse.GetValue(keys)!, parse.GetValue(noAuth), parse.GetValue(port), cancellationToken));
        return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
    }

    private static async Task<int> RunAsync(DirectoryInfo app, FileInfo? settingsFile, FileInfo keysFile, bool noAuth, int port, CancellationToken cancellationToken)
    {
        using var loggers = LoggerFactory.Create(b => b
            .SetMinimumLevel(LogLevel.Information)
            // The worker's framework chatter (request lines, Kestrel, data protection) only when it warns; the app's own logs all.
            .AddFilter("Worker.Microsoft", LogLevel.Warning)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            }));
        try
        {
            var settings = settingsFile is null ? new Dictionary<string, string>() : LocalSettings.ValuesNotInEnvironment(settingsFile.FullName, Console.Error);
            var functionKeys = noAuth ? null : FunctionKeys.LoadOrCreate(keysFile.FullName);
            await using var host = await StandInHost.StartAsync(new StandInOptions
            {
                AppDirectory = app.FullName,
                Settings = settings,
                Keys = functionKeys,
                HttpPort = port,
                LoggerFactory = loggers,
            }, cancellationToken).ConfigureAwait(false);
            PrintFunctions(host, noAuth ? null : keysFile.FullName);

            // Runs until Ctrl+C or SIGTERM, or until the worker dies (then the exit code says so).
            var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                stop.TrySetResult();
            });
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c =>
            {
                c.Cancel = true;
                stop.TrySetResult();
            });
            var ended = await Task.WhenAny(stop.Task, host.WorkerExited).ConfigureAwait(false);
            return ended == stop.Task ? 0 : 1;
        }
        catch (Exception ex) when (ex is WorkerStartException or InvalidDataException or FileNotFoundException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync("Host start failed: " + ex.Message).ConfigureAwait(false);
            return 1;
        }
    }

    private static void PrintFunctions(StandInHost host, string? keysPath)
    {
        Console.WriteLine();
        Console.WriteLine("Host: local stand-in (tools/FunctionsHost), not the Azure Functions host: see docs/running-locally.md for what differs.");
        Console.WriteLine("Functions:");
        foreach (var function in host.Functions)
        {
            string detail = function.Kind switch
            {
                TriggerKind.Http => $"[{(function.HttpMethods.Count == 0 ? "ANY" : string.Join(",", function.HttpMethods))}] " +
                    $"{host.BaseAddress}{string.Join('/', new[] { host.HostJson.RoutePrefix, function.Route }.Where(s => s.Length > 0))} (auth: {function.AuthLevel})",
                TriggerKind.Queue => $"queueTrigger on '{function.Property("queueName")}'",
                TriggerKind.Timer => $"timerTrigger '{function.Property("schedule")}' (UTC); run now: POST {host.BaseAddress}admin/functions/{function.Name}",
                _ => function.TriggerType,
            };
            Console.WriteLine($"  {function.Name}: {detail}{(host.IsDisabled(function) ? " (disabled: not started)" : "")}");
        }

        Console.WriteLine(keysPath is null
            ? "Function keys are not checked (--no-auth)."
            : $"Function keys: {keysPath} (\"host\".\"default\" for Function-level triggers as ?code= or x-functions-key; \"master\" for the admin API).");
        Console.WriteLine();
    }
}
