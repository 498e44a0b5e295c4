using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailgunFunctions.Rates;

/// <summary>Registers the per-tenant daily rates and their options (validated at start-up).</summary>
public static class RatesRegistration
{
    public static IServiceCollection AddTenantRates(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RateOptions>().Bind(configuration.GetSection(RateOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<TenantDailyRates>();
        return services;
    }
}
