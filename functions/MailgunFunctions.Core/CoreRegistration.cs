using MailgunFunctions.Api;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Classification;
using MailgunFunctions.Export;
using MailgunFunctions.Inbound;
using MailgunFunctions.Ingestion;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Migration;
using MailgunFunctions.PlatformUnsubscribe;
using MailgunFunctions.Processing;
using MailgunFunctions.Rates;
using MailgunFunctions.Settings;
using MailgunFunctions.Storage;
using MailgunFunctions.Telemetry;
using MailgunFunctions.Tenants;
using MailgunFunctions.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MailgunFunctions;

/// <summary>Registers the domain and storage services. Used by the Functions app, the CLI, the benchmarks and the tests.</summary>
public static class CoreRegistration
{
    public static IServiceCollection AddMailgunCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);

        services.AddMailgunSettings(configuration);
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp => new StorageClients(configuration, sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetServices<Azure.Core.Pipeline.HttpPipelinePolicy>()));

        services.AddMailgunMetrics();
        services.AddTenants(configuration);
        services.AddWebhookAuthentication();
        services.AddEventsWebhook();
        services.AddBounceClassification(configuration);
        services.AddTenantRates(configuration);
        services.AddDndProcessing(configuration);
        services.AddChangeFeed(configuration);
        services.AddMailgunApi(configuration);
        services.AddSuppressionExport(configuration);
        services.AddInboundReplies(configuration);
        services.AddPlatformUnsubscribe(configuration);
        services.AddPlatformApi();
        services.AddLegacyDataMigration();
        return services;
    }
}
