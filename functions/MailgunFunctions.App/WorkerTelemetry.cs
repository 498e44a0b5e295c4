using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using MailgunFunctions.Telemetry;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace MailgunFunctions.App;

/// <summary>How the worker's own telemetry is sampled (section "Telemetry"; docs/operations.md#telemetry).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>
    /// Share of operations whose dependency calls (Storage, Mailgun, the platform) the worker exports, decided on the
    /// operation id the way Application Insights' own sampling decides, so a kept operation keeps all of its calls. Default
    /// 0.1: an event makes about 7 storage calls, and exporting all of them would cost more than the rest of its telemetry.
    /// Metrics are never sampled.
    /// </summary>
    [Range(0.0, 1.0)]
    public double SamplingRatio { get; set; } = 0.1;
}

/// <summary>
/// The worker's OpenTelemetry wiring: the product's meter, the Azure SDK's and HttpClient's dependency spans, the Functions
/// worker's invocation span (parented on the host's, so dependencies join the host's request in Application Insights). Logs
/// are not exported here: they keep reaching Application Insights through the host, with host.json's sampling and their event ids.
/// </summary>
public static class WorkerTelemetry
{
    /// <summary>Set by the platform (infra/main.bicep); without it the worker exports nothing.</summary>
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary><c>ClientId=...;Authorization=AAD</c>: the identity the exporter signs in with (the component refuses keys).</summary>
    public const string AuthenticationStringSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    // Azure.Core emits one span per logical operation ("Azure.Data.Tables.TableClient.AddEntity") and one per HTTP attempt
    // ("Azure.Core.Http"); HttpClient's own span under the latter would count every storage request twice.
    private const string AzureCoreHttpSource = "Azure.Core.Http";

    /// <summary>Registers the sources and the meter; the caller adds exporters (Azure Monitor in Program.cs, in-memory in tests).</summary>
    public static IOpenTelemetryBuilder AddWorkerTelemetry(this IServiceCollection services)
    {
        // Azure.Core's ActivitySource is still behind this switch; without it the storage calls make no spans.
        AppContext.SetSwitch("Azure.Experimental.EnableActivitySource", true);
        return services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .WithMetrics(metrics => metrics.AddMeter(MailgunMetrics.MeterName))
            .WithTracing(tracing => tracing
                .AddSource("Azure.*")
                .AddHttpClientInstrumentation(o => o.FilterHttpRequestMessage = _ => Activity.Current?.Parent?.Source.Name != AzureCoreHttpSource));
    }

    /// <summary>When <see cref="ConnectionStringSetting"/> is set: the wiring above, exported to Application Insights.</summary>
    public static IServiceCollection AddAzureMonitorTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string? connectionString = configuration[ConnectionStringSetting];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return services;
        }

        var options = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var credential = CredentialOf(configuration[AuthenticationStringSetting]);
        // Per signal, not UseAzureMonitorExporter: that one would also export the worker's logs, which already reach
        // Application Insights through the host (twice the cost, and outside host.json's sampling).
        services.AddWorkerTelemetry()
            .WithTracing(tracing => tracing.AddAzureMonitorTraceExporter(o =>
            {
                o.ConnectionString = connectionString;
                o.Credential = credential;
                // The exporter's default is a per-process rate limit, which would take precedence over the ratio and, per
                // instance, keep a different share of each tenant's operations: a fixed ratio keeps the same share everywhere.
                o.TracesPerSecond = null;
                o.SamplingRatio = (float)options.SamplingRatio;
            }))
            .WithMetrics(metrics => metrics.AddAzureMonitorMetricExporter(o =>
            {
                o.ConnectionString = connectionString;
                o.Credential = credential;
            }));
        return services;
    }

    /// <summary>
    /// The credential the authentication string asks for: the user-assigned identity of <c>ClientId=</c>, else the
    /// system-assigned one; none (instrumentation key) without <c>Authorization=AAD</c>.
    /// </summary>
    public static TokenCredential? CredentialOf(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString))
        {
            return null;
        }

        var parts = authenticationString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var authorization) || !string.Equals(authorization, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return new ManagedIdentityCredential(parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0
            ? ManagedIdentityId.FromUserAssignedClientId(clientId)
            : ManagedIdentityId.SystemAssigned);
    }
}
