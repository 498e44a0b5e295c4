using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Tenants;

public static class TenantRegistration
{
    /// <summary>Registers the tenant registry, its secret sealing and the cached directory, with <see cref="TenantsOptions"/> validated at start-up.</summary>
    public static IServiceCollection AddTenants(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<TenantsOptions>().Bind(configuration.GetSection(TenantsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TenantsOptions>, TenantsOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TenantsOptions>, WebhookKeysRequiredValidator>());
        services.TryAddSingleton<SecretBox>();
        services.TryAddSingleton<TenantRegistry>();
        services.TryAddSingleton<TenantDirectory>();
        // Transient: it holds the typed Mailgun API client (see MailgunApiRegistration).
        services.TryAddTransient<TenantConnection>();
        services.TryAddTransient<TenantSetupCheck>();
        return services;
    }
}
