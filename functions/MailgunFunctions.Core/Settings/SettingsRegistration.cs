using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Settings;

public static class SettingsRegistration
{
    /// <summary>Binds the single-account Mailgun settings and the webhooks' behaviour, validated at start-up.</summary>
    public static IServiceCollection AddMailgunSettings(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<MailgunOptions>().Bind(configuration.GetSection(MailgunOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MailgunOptions>, MailgunOptionsValidator>();
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
