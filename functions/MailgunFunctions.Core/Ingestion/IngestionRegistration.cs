using MailgunFunctions.Queueing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailgunFunctions.Ingestion;

public static class IngestionRegistration
{
    /// <summary>Registers the events webhook's intake and the events queue it sends to.</summary>
    public static IServiceCollection AddEventsWebhook(this IServiceCollection services)
    {
        services.TryAddSingleton<EventQueue>();
        services.TryAddSingleton<EventWebhookIntake>();
        return services;
    }
}
