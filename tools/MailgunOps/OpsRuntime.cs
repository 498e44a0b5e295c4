using System.CommandLine;
using System.Net;
using Azure;
using DnsClient;
using MailgunFunctions;
using MailgunFunctions.Ingestion;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Settings;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunOps;

/// <summary>The options every command shares, and how a command's services are built from them.</summary>
/// <param name="stdin">Where secrets piped to the CLI are read from (the API key of <c>tenant connect</c>).</param>
/// <param name="interactive">Whether <paramref name="stdin"/> is a terminal: a secret is then typed without echo.</param>
/// <param name="terminalStderr">Whether stderr is a terminal: progress then rewrites one line; otherwise it prints plain lines.</param>
/// <param name="terminalStdout">Whether stdout is a terminal too (its lines would land in the middle of a rewritten progress line).</param>
public sealed class OpsRuntime(TextWriter stdout, TextWriter stderr, Action<IServiceCollection>? overrides, TextReader? stdin = null, bool interactive = false,
    bool terminalStderr = false, bool terminalStdout = false, IDictionary<string, string?>? settings = null)
{
    /// <summary>Settings over the environment's for every run (tests give the shards' connections this way, as an operator's environment does).</summary>
    private readonly IDictionary<string, string?> _settings = settings ?? new Dictionary<string, string?>();

    public const string DevelopmentStorage = "UseDevelopmentStorage=true";

    public Option<string?> Storage { get; } = new("--storage") { Description = "Storage connection string (default: AzureWebJobsStorage, else Azurite's UseDevelopmentStorage=true).", Recursive = true };
    public Option<string?> ApiKey { get; } = new("--api-key") { Description = "Mailgun private API key for this run (default: the tenant's from the registry, or Mailgun__ApiKey for the single-account tenant).", Recursive = true };
    public Option<bool> Json { get; } = new("--json") { Description = "JSON output: one document, or JSON Lines for streams.", Recursive = true };
    public Option<string?> DnsServer { get; } = new("--dns-server") { Description = "DNS resolver as ip[:port] (default: the system's).", Recursive = true };
    public Option<FileInfo> SettingsFile { get; } = new("--settings")
    {
        Description = "A local.settings.json whose Values supply the settings the environment lacks (default: the one in the current directory, when there is one: the local app's).",
        DefaultValueFactory = _ => new FileInfo(LocalSettingsFile.DefaultName),
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose") { Description = "Log the Core's structured logs to stderr.", Recursive = true };
    public Option<string?> MailgunBaseUrl { get; } = new("--mailgun-base-url")
    {
        Description = "Mailgun's API base URL for both regions in this run, e.g. a staging endpoint or a local fake (default: MailgunApi__UsBaseUrl/EuBaseUrl, else Mailgun's).",
        Recursive = true,
    };

    public TextWriter Stdout { get; } = stdout;
    public TextWriter Stderr { get; } = stderr;
    public TextReader Stdin { get; } = stdin ?? TextReader.Null;
    public bool InteractiveStdin { get; } = interactive;
    public bool TerminalStderr { get; } = terminalStderr;
    public bool TerminalStdout { get; } = terminalStdout;

    /// <summary>Builds the services for one run and runs <paramref name="body"/>, turning known failures into a message and an exit code.</summary>
    public async Task<int> RunAsync(ParseResult parse, Func<OpsContext, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        var output = new Output(Stdout, Stderr, parse.GetValue(Json));
        try
        {
            await using var services = BuildServices(parse);
            var context = new OpsContext(services, output, services.GetRequiredService<TimeProvider>(), ResolverEndpoint(parse.GetValue(DnsServer)))
            {
                ApiKeyOverride = parse.GetValue(ApiKey) is { Length: > 0 } key ? key : null,
                Runtime = this,
            };
            return await body(context, cancellationToken).ConfigureAwait(false);
        }
        catch (OpsException ex)
        {
            return Error(output, ex.ExitCode, ex.Message);
        }
        catch (TenantOperationException ex)
        {
            return Error(output, ex.Problem switch
            {
                TenantProblem.Invalid => ExitCodes.Usage,
                TenantProblem.NotFound or TenantProblem.DomainUnknown => ExitCodes.NotFound,
                TenantProblem.DomainTaken or TenantProblem.Refused => ExitCodes.Refused,
                _ => ExitCodes.Remote,
            }, ex.Message);
        }
        catch (Exception ex) when (ex is DomainTakenException or TenantChangedException or WebhooksFullException)
        {
            return Error(output, ExitCodes.Refused, ex.Message);
        }
        catch (OptionsValidationException ex)
        {
            return Error(output, ExitCodes.Configuration, "configuration: " + string.Join(" ", ex.Failures));
        }
        catch (SecretUnreadableException ex)
        {
            return Error(output, ExitCodes.Configuration, "configuration: a registry secret does not open: " + ex.Message);
        }
        catch (MailgunApiException ex) when (ex.IsMissingApiKey)
        {
            return Error(output, ExitCodes.Configuration, "configuration: " + ex.Message);
        }
        catch (MailgunApiException ex)
        {
            return Error(output, ExitCodes.Remote, "Mailgun: " + ex.Message);
        }
        catch (MailgunFunctions.Export.SuppressionExportException ex)
        {
            // The export goes on with the other lists when one fails, then reports them all.
            return Error(output, ex.InnerExceptions.All(i => i is MailgunApiException) ? ExitCodes.Remote : ExitCodes.Storage, "export: " + ex.Message + " " + string.Join(" ", ex.InnerExceptions.Select(i => i.Message)));
        }
        catch (DnsResponseException ex)
        {
            return Error(output, ExitCodes.Remote, "DNS: " + ex.Message);
        }
        catch (Exception ex) when (ex is RequestFailedException { Status: 403 } or AggregateException { InnerException: RequestFailedException { Status: 403 } })
        {
            // A wrong account key (or a SAS or identity without rights): the SDK says only "Service request failed".
            return Error(output, ExitCodes.Storage, $"storage: authentication failed (403): the storage account refused the key or identity in {StorageNames.ConnectionSetting} (--storage); check its AccountKey or role assignments");
        }
        catch (Exception ex) when (ex is RequestFailedException or AggregateException { InnerException: RequestFailedException or HttpRequestException or OperationCanceledException })
        {
            // The Azure SDK reports a storage that cannot be reached, or that timed out on every attempt, as an
            // AggregateException of its attempts.
            return Error(output, ExitCodes.Storage, "storage: " + FirstLine((ex is AggregateException { InnerException: { } inner } ? inner : ex).Message));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Error(output, ExitCodes.Usage, "cancelled");
        }
        catch (OperationCanceledException ex)
        {
            // Not the operator's Ctrl+C: a client gave up waiting for an answer. The storage SDK reports its network timeout
            // this way when it does not retry (Mailgun's client and DNS report theirs as their own errors above). Left
            // uncaught, System.CommandLine would take it for a cancellation and exit 1 without a word.
            return Error(output, ExitCodes.Storage, $"storage: no answer in time ({FirstLine(ex.Message)}): is the account in {StorageNames.ConnectionSetting} (--storage) reachable?");
        }
    }

    /// <summary>
    /// Every error goes through here: one line <c>error: ...</c>, or under <c>--json</c> one JSON object
    /// <c>{"error": "...", "exitCode": N}</c>, both on stderr. URLs in it are masked (Mailgun may echo a webhook URL with its function key).
    /// </summary>
    private int Error(Output output, int exitCode, string message)
    {
        string masked = UrlMask.InText(message);
        Stderr.WriteLine(output.Json
            ? new Newtonsoft.Json.Linq.JObject { ["error"] = masked, ["exitCode"] = exitCode }.ToString(Newtonsoft.Json.Formatting.None)
            : "error: " + masked);
        return exitCode;
    }

    private ServiceProvider BuildServices(ParseResult parse)
    {
        // Lowest first: the settings file (only names the environment lacks), then the options of this run, then the runtime's own.
        var values = LocalSettingsFile.ValuesNotInEnvironment(parse.GetValue(SettingsFile));
        var environment = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        values[StorageNames.ConnectionSetting] = parse.GetValue(Storage) is { Length: > 0 } storage ? storage
            : environment[StorageNames.ConnectionSetting] is { Length: > 0 } fromEnvironment ? fromEnvironment
            : values.GetValueOrDefault(StorageNames.ConnectionSetting) is { Length: > 0 } fromFile ? fromFile
            : DevelopmentStorage;
        if (parse.GetValue(ApiKey) is { Length: > 0 } apiKey)
        {
            values[$"{MailgunOptions.Section}:{nameof(MailgunOptions.ApiKey)}"] = apiKey;
        }

        if (parse.GetValue(MailgunBaseUrl) is { Length: > 0 } baseUrl)
        {
            if (!Uri.TryCreate(baseUrl.Trim(), UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            {
                throw new OpsException(ExitCodes.Usage, $"--mailgun-base-url '{baseUrl}' is not an absolute http(s) URL, e.g. https://api.mailgun.net or http://127.0.0.1:5080");
            }

            values[$"{MailgunApiOptions.Section}:{nameof(MailgunApiOptions.UsBaseUrl)}"] = url.AbsoluteUri;
            values[$"{MailgunApiOptions.Section}:{nameof(MailgunApiOptions.EuBaseUrl)}"] = url.AbsoluteUri;
        }

        foreach (var (key, value) in _settings)
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
            else
            {
                // Without --verbose the logs are off, but a retry is shown: a command that waits for Mailgun says why and how long.
                b.AddProvider(new RetryLines(Stderr, TerminalStderr));
                b.AddFilter<RetryLines>(typeof(MailgunApiClient).FullName, LogLevel.Warning);
            }
        });
        services.AddMailgunCore(configuration);
        // The CLI never verifies webhook signatures, so the app's start-up rule "some signing key is configured" (which
        // protects the Functions app) does not apply here: drop only that validator instead of inventing a fake key.
        services.RemoveAll<IValidateOptions<MailgunOptions>>();
        var keysRequired = services.Where(d => d.ImplementationType == typeof(WebhookKeysRequiredValidator)).ToList();
        foreach (var descriptor in keysRequired)
        {
            services.Remove(descriptor);
        }

        overrides?.Invoke(services);
        // Each shard's container registers the Core again (CoreRegistration.BuildShard): the same removals and overrides apply there.
        services.AddSingleton(new ShardServicesHook(shard =>
        {
            shard.RemoveAll<IValidateOptions<MailgunOptions>>();
            foreach (var descriptor in shard.Where(d => d.ImplementationType == typeof(WebhookKeysRequiredValidator)).ToList())
            {
                shard.Remove(descriptor);
            }

            overrides?.Invoke(shard);
            // The home container's pipeline policies are already there (BuildShard copies them): each once.
            foreach (var twice in shard.Where(d => d.ServiceType == typeof(Azure.Core.Pipeline.HttpPipelinePolicy) && d.ImplementationInstance is not null)
                .GroupBy(d => d.ImplementationInstance, ReferenceEqualityComparer.Instance).SelectMany(g => g.Skip(1)).ToList())
            {
                shard.Remove(twice);
            }
        }));
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

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}

/// <summary>What a command gets: the Core's services, the output, the clock and the DNS resolver to use.</summary>
public sealed class OpsContext(IServiceProvider services, Output output, TimeProvider time, IPEndPoint? dnsServer)
{
    public IServiceProvider Services { get; } = services;
    public Output Output { get; } = output;
    public TimeProvider Time { get; } = time;
    public IPEndPoint? DnsServer { get; } = dnsServer;

    /// <summary><c>--api-key</c>: used instead of the tenant's stored key for this run (e.g. to try a new key before storing it).</summary>
    public string? ApiKeyOverride { get; init; }

    /// <summary>The runtime that made this context (its stdin, for secrets).</summary>
    public OpsRuntime? Runtime { get; init; }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>Every storage shard (Storage__Shards, the accounts in StorageShard{k}).</summary>
    public TenantShards Shards => Get<TenantShards>();

    /// <summary>
    /// The Core's services of the shard holding <paramref name="tenant"/>'s data (its recorded shard): what every command on one
    /// tenant's DND, events, replies or rates uses instead of <see cref="Get{T}"/>, which is the home account's.
    /// </summary>
    public async Task<ShardScope> ForTenantAsync(string tenant, CancellationToken cancellationToken)
    {
        var directory = Get<TenantDirectory>();
        var found = await directory.FindAsync(tenant, cancellationToken).ConfigureAwait(false);
        return Shard(found?.Tenant.Shard ?? 0);
    }

    /// <summary>
    /// As <see cref="ForTenantAsync"/>, for a command that changes the tenant's data (block, enable, forget, export,
    /// replay): refused (exit 3) while <c>tenant move</c> moves the tenant, since a change written on its old shard after
    /// the copy would be lost at the switch (docs/scaling.md "Moving a tenant").
    /// </summary>
    public async Task<ShardScope> ForTenantChangeAsync(string tenant, CancellationToken cancellationToken)
    {
        var found = await Get<TenantDirectory>().FindAsync(tenant, cancellationToken).ConfigureAwait(false);
        if (found?.Tenant.MovingTo is { } to)
        {
            throw new OpsException(ExitCodes.Refused,
                $"tenant '{found.Tenant.Id}' is being moved from storage shard {found.Tenant.Shard} to {to}: its data cannot be changed until the move ends (mailgun-ops tenant move --tenant {found.Tenant.Id} --to {to} --yes finishes it, --to {found.Tenant.Shard} cancels it)");
        }

        return Shard(found?.Tenant.Shard ?? 0);
    }

    /// <summary>The services of shard <paramref name="shard"/>; a shard past Storage__Shards is a configuration error (exit 4).</summary>
    public ShardScope Shard(int shard)
    {
        try
        {
            return new ShardScope(shard, Shards.Services(shard));
        }
        catch (ShardNotConfiguredException ex)
        {
            throw new OpsException(ExitCodes.Configuration, "configuration: " + ex.Message);
        }
    }

    /// <summary>
    /// Progress of long work on stderr: one rewritten line on a terminal, plain lines otherwise. A command whose results stream
    /// to stdout meanwhile (<paramref name="streamsToStdout"/>) gets plain lines when stdout shares the terminal, since its
    /// lines would otherwise be written into the middle of the progress line.
    /// </summary>
    public ProgressLine Progress(string what, string unit, long? total, bool streamsToStdout = false) =>
        new(Output.Error, Runtime is { TerminalStderr: true } r && !(streamsToStdout && r.TerminalStdout), what, unit, total, Time);

    /// <summary>
    /// The tenant a command works on: <c>--tenant</c>, or the tenant that registered <c>--domain</c>. In a single-account
    /// install (settings with an API key), a domain no registry tenant owns is the single-account tenant's, for this run,
    /// in <paramref name="region"/> (every domain of that account shares its DND). Anything else is a clear error.
    /// </summary>
    public async Task<ResolvedTenant> TenantAsync(string? tenantId, string? domain, MailgunRegion? region, CancellationToken cancellationToken)
    {
        var directory = Get<TenantDirectory>();
        if (tenantId is { Length: > 0 })
        {
            if (TenantId.Parse(tenantId) is not { } id)
            {
                throw new OpsException(ExitCodes.Usage, "--tenant: " + TenantId.Problem(tenantId));
            }

            var tenant = await directory.FindAsync(id, cancellationToken).ConfigureAwait(false)
                ?? throw new OpsException(ExitCodes.NotFound, $"no tenant '{id}': see mailgun-ops tenant list");
            if (domain is { Length: > 0 } && tenant.Tenant.Domain(domain) is null)
            {
                throw new OpsException(ExitCodes.Usage, $"domain '{domain}' is not a domain of tenant '{id}' ({string.Join(", ", tenant.Tenant.Domains.Select(d => d.Name))})");
            }

            return WithApiKeyOverride(tenant);
        }

        if (domain is not { Length: > 0 })
        {
            throw new OpsException(ExitCodes.Usage, "name the tenant: --tenant <location id>, or --domain <one of its sending domains>");
        }

        if (SendingDomain.Normalize(domain) is not { } name)
        {
            throw new OpsException(ExitCodes.Usage, $"--domain '{domain}' is not a domain name like mg.example.com");
        }

        if (await directory.FindByDomainAsync(name, cancellationToken).ConfigureAwait(false) is { } owner)
        {
            return WithApiKeyOverride(owner);
        }

        if (directory.Implicit is { } single)
        {
            var tenant = single.Tenant with { Domains = [.. single.Tenant.Domains, new TenantDomain(name, region ?? single.Tenant.Region)] };
            return new ResolvedTenant(tenant, single.Keys, single.ParentKeys);
        }

        throw new OpsException(ExitCodes.NotFound, $"domain '{name}' belongs to no tenant: connect it (mailgun-ops tenant connect) or, for a single-account install, give its settings (Mailgun__ApiKey or Mailgun__SigningKeys__primary in the environment, or the app's local.settings.json with --settings)");
    }

    private ResolvedTenant WithApiKeyOverride(ResolvedTenant tenant) =>
        ApiKeyOverride is null || tenant.Tenant.IsImplicit ? tenant : new ResolvedTenant(tenant.Tenant with { ApiKey = ApiKeyOverride }, tenant.Keys, tenant.ParentKeys);

    /// <summary>The Mailgun API target of one of the tenant's domains (<paramref name="domain"/>), or of its only domain.</summary>
    public static MailgunDomain MailgunDomainOf(ResolvedTenant tenant, string? domain)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var chosen = domain is { Length: > 0 } ? tenant.Tenant.Domain(domain)
            : tenant.Tenant.Domains.Count == 1 ? tenant.Tenant.Domains[0]
            : null;
        return chosen is null
            ? throw new OpsException(ExitCodes.Usage, $"name one of tenant '{tenant.Id}''s domains with --domain ({string.Join(", ", tenant.Tenant.Domains.Select(d => d.Name))})")
            : tenant.Tenant.MailgunDomain(chosen);
    }
}

/// <summary>The Core's services bound to one storage shard (0: the home account).</summary>
public sealed class ShardScope(int shard, IServiceProvider services)
{
    public int Number { get; } = shard;

    public IServiceProvider Services { get; } = services;

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();
}

/// <summary>
/// Writes each Mailgun retry to stderr as the client logs it ("Mailgun API GET /v3/... answered 429; retry 1 in 2000 ms"),
/// the rest of the logs staying off. On a terminal it first clears a progress line being rewritten.
/// </summary>
internal sealed class RetryLines(TextWriter stderr, bool terminal) : ILoggerProvider, ILogger
{
    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id == MailgunApiClient.RetryLogEventId && formatter is not null)
        {
            string line = UrlMask.InText(formatter(state, exception));
            stderr.WriteLine((terminal ? "\r\u001b[K" : "") + line);
        }
    }

    public void Dispose()
    {
    }
}
