using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.PlatformUnsubscribe;

/// <summary>Registers the platform's own unsubscribe link: tokens, links for the sending side, and the DND side.</summary>
public static class PlatformUnsubscribeRegistration
{
    public static IServiceCollection AddPlatformUnsubscribe(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<UnsubscribeOptions>().Bind(configuration.GetSection(UnsubscribeOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<UnsubscribeOptions>, UnsubscribeOptionsValidator>();
        services.TryAddSingleton<UnsubscribeTokenCodec>();
        services.TryAddSingleton<UnsubscribeLinks>();
        services.TryAddSingleton<PlatformUnsubscribeService>();
        services.TryAddSingleton<UnsubscribeEndpoint>();
        return services;
    }
}
