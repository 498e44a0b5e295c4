using MailgunFunctions.Dnd;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailgunFunctions.Api;

public static class ApiRegistration
{
    /// <summary>Registers the platform's DND API and the re-enable flow it shares with the CLI (with the address check it runs).</summary>
    public static IServiceCollection AddPlatformApi(this IServiceCollection services)
    {
        services.TryAddSingleton(_ => new MailAddressCheck());
        services.TryAddSingleton<DndReenableFlow>();
        services.TryAddSingleton<DndApi>();
        return services;
    }
}
