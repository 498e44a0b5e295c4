using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace MailgunFunctions.Testing;

/// <summary>
/// A real Azure Storage emulator for integration tests. The test command starts one and passes its
/// connection string in MAILGUNFUNCTIONS_TEST_STORAGE; without it (a plain 'dotnet test'), one is started
/// here from the repository's pinned node_modules. Tests that need to stop and restart storage start
/// their own with <see cref="StartDedicatedAsync"/>.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    public const string EnvironmentVariable = "MAILGUNFUNCTIONS_TEST_STORAGE";

    /// <summary>The storage emulator's published development account key (not a secret).</summary>
    public const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly SemaphoreSlim SharedLock = new(1, 1);
    private static Azurite? _shared;

    private readonly string? _location;
    private Process? _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _errors = new();

    private Azurite(string connectionString, int blobPort, int queuePort, int tablePort, string? location)
    {
        ConnectionString = connectionString;
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
        _location = location;
    }

    public string ConnectionString { get; }
    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }

    /// <summary>A connection string to ports where nothing listens: storage that is down.</summary>
    /// <summary>A connection string with Azurite's account whose three services are at <paramref name="port"/> (a fault server).</summary>
    public static string At(int port) => BuildConnectionString(port, port, port);

    public static string Unreachable()
    {
        int port = FreePort();
        return BuildConnectionString(port, port, port);
    }

    /// <summary>The instance shared by a test run.</summary>
    public static async Task<string> SharedConnectionStringAsync()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        await SharedLock.WaitAsync();
        try
        {
            if (_shared is null)
            {
                _shared = await StartDedicatedAsync(persistent: false);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => _shared.Stop();
            }

            return _shared.ConnectionString;
        }
        finally
        {
            SharedLock.Release();
        }
    }

    /// <summary>Starts an instance this test owns. With <paramref name="persistent"/>, data survives <see cref="RestartAsync"/>.</summary>
    public static async Task<Azurite> StartDedicatedAsync(bool persistent)
    {
        string? location = persistent ? Directory.CreateTempSubdirectory("azurite-").FullName : null;
        for (int attempt = 1; ; attempt++)
        {
            int blob = FreePort(), queue = FreePort(), table = FreePort();
            var azurite = new Azurite(BuildConnectionString(blob, queue, table), blob, queue, table, location);
            try
            {
                await azurite.StartAsync();
                return azurite;
            }
            catch (AzuriteExitedException) when (attempt < 3)
            {
                // A port found free was taken before Azurite bound it (other test projects and their Azurites start
                // at the same time): start again on other ports.
                azurite.Stop();
            }
        }
    }

    public async Task RestartAsync()
    {
        Stop();
        await StartAsync();
    }

    public void Stop()
    {
        if (_process is { HasExited: false })
        {
            // SIGTERM first: Azurite then flushes what it acknowledged to disk, as real storage keeps what it acknowledged.
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString()]))
            {
                term?.WaitForExit(5_000);
            }

            if (!_process.WaitForExit(10_000))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        Stop();
        if (_location is not null)
        {
            try
            {
                Directory.Delete(_location, recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }

        await Task.CompletedTask;
    }

    private async Task StartAsync()
    {
        string executable = Path.Combine(RepositoryRoot.Find(), "node_modules", ".bin", "azurite");
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException($"Azurite is not installed at {executable}: run 'npm ci' at the repository root (scripts/test.sh does).");
        }

        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // --skipApiVersionCheck: the current Azure SDKs send API versions newer than Azurite knows.
        foreach (string arg in new[] { "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--loose",
                     "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(),
                     "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(),
                     "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString() })
        {
            start.ArgumentList.Add(arg);
        }

        if (_location is null)
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(_location);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start");
        _errors.Clear();
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line && _errors.Count < 20)
            {
                _errors.Enqueue(line);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        foreach (int port in new[] { BlobPort, QueuePort, TablePort })
        {
            while (!await IsListeningAsync(port))
            {
                if (_process.HasExited)
                {
                    throw new AzuriteExitedException($"Azurite exited with code {_process.ExitCode} during start-up: {string.Join(" | ", _errors)}");
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"Azurite did not listen on port {port} within 30 seconds");
                }

                await Task.Delay(100);
            }
        }
    }

    private static async Task<bool> IsListeningAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string BuildConnectionString(int blob, int queue, int table) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevelopmentKey};" +
        $"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;";
}

/// <summary>Finds the repository root (the folder holding MailgunFunctions.sln) from the test's output folder.</summary>
public static class RepositoryRoot
{
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MailgunFunctions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("MailgunFunctions.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>Azurite stopped while starting (most often: one of its ports was taken meanwhile).</summary>
public sealed class AzuriteExitedException(string message) : InvalidOperationException(message);
