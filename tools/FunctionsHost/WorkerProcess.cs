using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace FunctionsHost;

/// <summary>
/// The worker process, started as the real host starts it: the command from the app's worker.config.json
/// (<c>defaultExecutablePath</c> + <c>defaultWorkerPath</c>) with the host's connection arguments, in the app's folder,
/// with the app settings as environment variables. Its stdout and stderr are kept (the last lines explain a crash).
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private const int KeptLines = 200;
    private const string SetPriv = "/usr/bin/setpriv";
    private const string SetSid = "/usr/bin/setsid";
    private readonly Process _process;
    private readonly ManualResetEventSlim _released = new();
    private readonly ConcurrentQueue<string> _lastLines = new();

    private WorkerProcess(Process process) => _process = process;

    /// <summary>Each line the worker writes to stdout or stderr.</summary>
    public event Action<string>? OutputLine;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines of the worker's stdout and stderr.</summary>
    public IReadOnlyList<string> LastLines => _lastLines.ToArray();

    public static WorkerProcess Start(string appDirectory, Uri functionsUri, string workerId, string requestId, IReadOnlyDictionary<string, string> environment)
    {
        var (executable, arguments) = ReadCommand(appDirectory);
        // Worker 2.x reads these four; the host passes the largest message size gRPC allows.
        arguments.AddRange(["--functions-uri", functionsUri.AbsoluteUri, "--functions-worker-id", workerId, "--functions-request-id", requestId,
            "--functions-grpc-max-message-length", int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (OperatingSystem.IsLinux() && File.Exists(SetPriv) && File.Exists(SetSid))
        {
            // The worker does not exit when its host disappears: have the kernel kill it if this process dies
            // without stopping it (a test run killed, a crash); setpriv sets the signal, then execs the worker.
            // In its own session, so a Ctrl+C in the terminal reaches the host only, which then stops the worker
            // as the real host does. Both exec in place (setsid forks only a group leader), so the pid is the worker's.
            arguments.InsertRange(0, ["--wait", SetPriv, "--pdeathsig", "KILL", "--", executable]);
            executable = SetSid;
        }

        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = appDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) => worker.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Keep(e.Data);
        worker.StartOnOwnThread();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Completes with the exit code when the process ends.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>Kills the worker and every process it started; safe to call at any time, more than once.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        Kill();
        _released.Set();
        _process.Dispose();
    }

    /// <summary>
    /// Starts the process from a thread that lives until <see cref="Dispose"/>: the kernel's parent-death signal
    /// follows the thread that started the child, and a pool thread may end at any time.
    /// </summary>
    private void StartOnOwnThread()
    {
        Exception? failure = null;
        using var started = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            try
            {
                _process.Start();
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            started.Set();
            _released.Wait();
        })
        {
            IsBackground = true,
            Name = "functions-worker-parent",
        };
        thread.Start();
        started.Wait();
        if (failure is not null)
        {
            throw new InvalidOperationException($"the worker did not start ({_process.StartInfo.FileName}): {failure.Message}", failure);
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lastLines.Enqueue(line);
        while (_lastLines.Count > KeptLines && _lastLines.TryDequeue(out _))
        {
        }

        OutputLine?.Invoke(line);
    }

    private static (string Executable, List<string> Arguments) ReadCommand(string appDirectory)
    {
        string configPath = Path.Combine(appDirectory, "worker.config.json");
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"{configPath} not found: --app must name the app's build output (e.g. functions/MailgunFunctions.App/bin/Debug/net10.0), built first", configPath);
        }

        var description = JsonNode.Parse(File.ReadAllText(configPath))?["description"]
            ?? throw new InvalidDataException($"{configPath} has no \"description\"");
        string executable = (string?)description["defaultExecutablePath"] ?? "dotnet";
        string workerPath = (string?)description["defaultWorkerPath"] ?? throw new InvalidDataException($"{configPath} names no defaultWorkerPath");
        if (executable == "dotnet" && Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            // Inside 'dotnet test' and 'dotnet run' this names the SDK's own dotnet, which PATH may not.
            executable = host;
        }

        var arguments = new List<string>();
        foreach (var argument in description["arguments"]?.AsArray() ?? [])
        {
            if ((string?)argument is { Length: > 0 } text)
            {
                arguments.Add(text);
            }
        }

        arguments.Add(Path.Combine(appDirectory, workerPath));
        return (executable, arguments);
    }
}
