using MailgunFunctions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunFunctions.App;

/// <summary>The app's whole service registration: called by Program.cs and by the tests.</summary>
public static class FunctionsRegistration
{
    public static IServiceCollection AddMailgunFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMailgunCore(configuration);
        services.AddOptions<TelemetryOptions>().Bind(configuration.GetSection(TelemetryOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
