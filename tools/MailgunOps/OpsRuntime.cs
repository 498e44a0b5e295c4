using System.CommandLine;
using System.Net;
using Azure;
using DnsClient;
using MailgunFunctions;
using MailgunFunctions.Ingestion;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunOps;

/// <summary>The options every command shares, and how a command's services are built from them.</summary>
public sealed class OpsRuntime(TextWriter stdout, TextWriter stderr, Action<IServiceCollection>? overrides)
{
    public const string DevelopmentStorage = "UseDevelopmentStorage=true";

    public Option<string?> Storage { get; } = new("--storage") { Description = "Storage connection string (default: AzureWebJobsStorage, else Azurite's UseDevelopmentStorage=true).", Recursive = true };
    public Option<string?> ApiKey { get; } = new("--api-key") { Description = "Mailgun private API key (default: Mailgun__ApiKey).", Recursive = true };
    public Option<bool> Json { get; } = new("--json") { Description = "JSON output: one document, or JSON Lines for streams.", Recursive = true };
    public Option<string?> DnsServer { get; } = new("--dns-server") { Description = "DNS resolver as ip[:port] (default: the system's).", Recursive = true };
    public Option<bool> Verbose { get; } = new("--verbose") { Description = "Log the Core's structured logs to stderr.", Recursive = true };

    public TextWriter Stdout { get; } = stdout;
    public TextWriter Stderr { get; } = stderr;

    /// <summary>Builds the services for one run and runs <paramref name="body"/>, turning known failures into a message and an exit code.</summary>
    public async Task<int> RunAsync(ParseResult parse, string? domain, MailgunRegion? region, Func<OpsContext, CancellationToken, Task<int>> body, CancellationToken cancellationToken,
        IDictionary<string, string?>? settings = null)
    {
        var output = new Output(Stdout, Stderr, parse.GetValue(Json));
        try
        {
            await using var services = BuildServices(parse, domain, region, settings);
            var context = new OpsContext(services, output, services.GetRequiredService<TimeProvider>(), ResolverEndpoint(parse.GetValue(DnsServer)));
            return await body(context, cancellationToken).ConfigureAwait(false);
        }
        catch (OpsException ex)
        {
            WriteError("error: " + ex.Message);
            return ex.ExitCode;
        }
        catch (OptionsValidationException ex)
        {
            WriteError("error: configuration: " + string.Join(" ", ex.Failures));
            return ExitCodes.Configuration;
        }
        catch (MailgunApiException ex)
        {
            WriteError("error: Mailgun: " + ex.Message);
            return ExitCodes.Remote;
        }
        catch (MailgunFunctions.Export.SuppressionExportException ex)
        {
            // The export goes on with the other lists when one fails, then reports them all.
            WriteError("error: export: " + ex.Message + " " + string.Join(" ", ex.InnerExceptions.Select(i => i.Message)));
            return ex.InnerExceptions.All(i => i is MailgunApiException) ? ExitCodes.Remote : ExitCodes.Storage;
        }
        catch (DnsResponseException ex)
        {
            WriteError("error: DNS: " + ex.Message);
            return ExitCodes.Remote;
        }
        catch (Exception ex) when (ex is RequestFailedException or AggregateException { InnerException: RequestFailedException or HttpRequestException })
        {
            // The Azure SDK reports a storage that cannot be reached as an AggregateException of its attempts.
            WriteError("error: storage: " + FirstLine((ex is AggregateException { InnerException: { } inner } ? inner : ex).Message));
            return ExitCodes.Storage;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            WriteError("error: cancelled");
            return ExitCodes.Usage;
        }
    }

    private ServiceProvider BuildServices(ParseResult parse, string? domain, MailgunRegion? region, IDictionary<string, string?>? settings)
    {
        var values = new Dictionary<string, string?>();
        var environment = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        values[StorageNames.ConnectionSetting] = parse.GetValue(Storage) is { Length: > 0 } storage ? storage
            : environment[StorageNames.ConnectionSetting] is { Length: > 0 } fromEnvironment ? fromEnvironment
            : DevelopmentStorage;
        if (parse.GetValue(ApiKey) is { Length: > 0 } apiKey)
        {
            values[$"{MailgunOptions.Section}:{nameof(MailgunOptions.ApiKey)}"] = apiKey;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        bool verbose = parse.GetValue(Verbose);
        services.AddLogging(b =>
        {
            b.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.None);
            if (verbose)
            {
                b.AddSimpleConsole(o => o.SingleLine = true).AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            }
        });
        services.AddMailgunCore(configuration);
        // The CLI never verifies webhook signatures, so the Core's start-up rule "a signing key is configured" (which
        // protects the Functions app) does not apply here: drop only that validator instead of inventing a fake key.
        services.RemoveAll<IValidateOptions<MailgunOptions>>();
        if (domain is { Length: > 0 })
        {
            // --domain (and --region) name the domain for this run; a domain already configured keeps its region unless --region is given.
            services.PostConfigure<MailgunApiOptions>(o =>
            {
                var existing = o.Domains.FirstOrDefault(d => string.Equals(d.Name.Trim(), domain.Trim(), StringComparison.OrdinalIgnoreCase));
                if (existing is null)
                {
                    o.Domains.Add(new MailgunDomainOptions { Name = domain.Trim(), Region = region ?? MailgunRegion.Us });
                }
                else if (region is { } r)
                {
                    existing.Region = r;
                }
            });
        }

        overrides?.Invoke(services);
        return services.BuildServiceProvider();
    }

    internal static IPEndPoint? ResolverEndpoint(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (IPEndPoint.TryParse(value, out var endpoint))
        {
            return endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint;
        }

        throw new OpsException(ExitCodes.Usage, $"--dns-server '{value}' is not an ip[:port] (e.g. 127.0.0.1:5353 or [::1]:53).");
    }

    /// <summary>Errors may quote a URL (Mailgun naming one it refused): its query is a secret, so it is masked.</summary>
    private void WriteError(string line) => Stderr.WriteLine(UrlMask.InText(line));

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}

/// <summary>What a command gets: the Core's services, the output, the clock and the DNS resolver to use.</summary>
public sealed class OpsContext(IServiceProvider services, Output output, TimeProvider time, IPEndPoint? dnsServer)
{
    public IServiceProvider Services { get; } = services;
    public Output Output { get; } = output;
    public TimeProvider Time { get; } = time;
    public IPEndPoint? DnsServer { get; } = dnsServer;

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();
}
