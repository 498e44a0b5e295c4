using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailgunFunctions.Export;

public static class SuppressionExportRegistration
{
    /// <summary>
    /// Registers <see cref="SuppressionExport"/> and its <see cref="ExportRunStore"/>, the nightly fan-out
    /// (<see cref="ExportFanOut"/>), the job queue and the job runner of the queue function, and the night's status.
    /// Needs <c>AddMailgunApi</c>, <c>AddTenants</c> and the storage clients of <c>AddMailgunCore</c>. The DND reconciliation (<see cref="SuppressionReconciler"/>) is registered as an <see cref="ISuppressionReconciler"/>; it needs <c>AddDndProcessing</c>.
    /// </summary>
    public static IServiceCollection AddSuppressionExport(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<SuppressionExportOptions>().Bind(configuration.GetSection(SuppressionExportOptions.Section)).ValidateDataAnnotations()
            .Validate(o => o.ReviewWebhookUrl is not { Length: > 0 } url || ChangeFeed.NotificationTargets.UrlProblem(url) is null,
                "SuppressionExport:ReviewWebhookUrl must be an absolute https:// URL (plain http only to a loopback address)")
            .ValidateOnStart();
        services.AddHttpClient(NightlyReview.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
        services.TryAddSingleton<NightlyReview>();
        services.TryAddSingleton<ExportRunStore>();
        services.TryAddSingleton<ExportScopes>();
        services.TryAddSingleton<ExportJobQueue>();
        services.TryAddSingleton<ExportFanOut>();
        services.TryAddSingleton<ExportStatusReport>();
        services.AddOptions<SuppressionReconcilerOptions>().Bind(configuration.GetSection(SuppressionReconcilerOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<Dnd.MailgunAllowlists>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISuppressionReconciler, SuppressionReconciler>());
        // Transient: it holds the typed Mailgun HttpClient, whose handler the factory must be free to rotate.
        services.TryAddTransient<SuppressionExport>();
        services.TryAddTransient<ExportJobRunner>();
        return services;
    }
}
