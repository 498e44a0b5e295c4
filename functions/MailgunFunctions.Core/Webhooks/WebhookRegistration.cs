using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailgunFunctions.Webhooks;

public static class WebhookRegistration
{
    /// <summary>Registers what both webhooks use to trust a request: the signature check per tenant and the replay guard.</summary>
    public static IServiceCollection AddWebhookAuthentication(this IServiceCollection services)
    {
        services.TryAddSingleton<WebhookAuthenticator>();
        services.TryAddSingleton<ReplayGuard>();
        return services;
    }
}
