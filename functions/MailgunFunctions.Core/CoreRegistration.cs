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
        services.TryAddSingleton(sp => new HomeStorage(sp.GetRequiredService<StorageClients>()));
        services.TryAddSingleton(new StorageShard(0));
        services.TryAddSingleton(sp => new TenantShards(sp, sp.GetRequiredService<IOptions<StorageOptions>>().Value.Shards, k => BuildShard(sp, configuration, k)));

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

    /// <summary>What every shard's container shares with the home container: one registry cache, one clock, one Meter.</summary>
    private static readonly Type[] SharedAcrossShards =
        [typeof(TimeProvider), typeof(HomeStorage), typeof(SecretBox), typeof(TenantRegistry), typeof(TenantDirectory), typeof(TenantShards), typeof(MailgunMetrics)];

    /// <summary>
    /// The services of shard k &gt; 0: the Core registered again over the account in <c>StorageShard{k}</c>, with the
    /// deployment-wide services taken from the home container. What the host adds to the home container for itself
    /// (HTTP pipeline policies of tests, <see cref="ShardServicesHook"/>) is applied here too.
    /// </summary>
    private static ServiceProvider BuildShard(IServiceProvider home, IConfiguration configuration, int shard)
    {
        var services = new ServiceCollection();
        services.AddSingleton(new StorageShard(shard));
        services.AddSingleton(home.GetService<Microsoft.Extensions.Logging.ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(Microsoft.Extensions.Logging.Logger<>));
        foreach (var type in SharedAcrossShards)
        {
            services.AddSingleton(type, home.GetRequiredService(type));
        }

        var policies = home.GetServices<Azure.Core.Pipeline.HttpPipelinePolicy>().ToArray();
        foreach (var policy in policies)
        {
            services.AddSingleton(policy);
        }

        services.AddSingleton(sp => new StorageClients(configuration, sp.GetRequiredService<IOptions<StorageOptions>>().Value, policies, StorageNames.ShardConnectionSetting(shard)));
        services.AddMailgunCore(configuration);
        foreach (var hook in home.GetServices<ShardServicesHook>())
        {
            hook.Configure(services);
        }

        return services.BuildServiceProvider();
    }
}

/// <summary>Registrations a host adds to every shard's container as it did to its own (a test's fakes, the CLI's overrides).</summary>
public sealed class ShardServicesHook(Action<IServiceCollection> configure)
{
    public void Configure(IServiceCollection services) => configure(services);
}
