using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Classification;

/// <summary>Registers the bounce classifier and its options (section "Classifier").</summary>
public static class ClassificationRegistration
{
    public static IServiceCollection AddBounceClassification(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ClassifierOptions>().Bind(configuration.GetSection(ClassifierOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp => new BounceClassifier(sp.GetRequiredService<IOptions<ClassifierOptions>>().Value));
        services.TryAddSingleton<IEventClassifier>(sp => sp.GetRequiredService<BounceClassifier>());
        return services;
    }
}
