using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailgunFunctions.Migration;

public static class MigrationRegistration
{
    /// <summary>Registers the move of single-account data to registry tenants (<c>mailgun-ops migrate</c>).</summary>
    public static IServiceCollection AddLegacyDataMigration(this IServiceCollection services)
    {
        services.TryAddTransient<LegacyDataMigration>();
        return services;
    }
}
