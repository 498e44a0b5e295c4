using MailgunFunctions.Dnd;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.ChangeFeed;

public static class ChangeFeedRegistration
{
    /// <summary>
    /// Registers the change feed (dispatch, platform notifications with their retries and dead letters, the expiry index and
    /// timer's job, the sweeper), with <see cref="ChangeFeedOptions"/> and
    /// <see cref="NotificationOptions"/> validated at start-up.
    /// </summary>
    public static IServiceCollection AddChangeFeed(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ChangeFeedOptions>().Bind(configuration.GetSection(ChangeFeedOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ChangeFeedOptions>, ChangeFeedOptionsValidator>());
        services.AddOptions<NotificationOptions>().Bind(configuration.GetSection(NotificationOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidator>());

        services.AddHttpClient(NotificationSender.ClientName, http =>
            {
                // Each POST is bounded by Notifications:Timeout on the injected clock (NotificationSender); HttpClient's own 100 s must not cut in first.
                http.Timeout = Timeout.InfiniteTimeSpan;
                http.DefaultRequestHeaders.UserAgent.ParseAdd("MailgunFunctions-DndNotifications/1");
            })
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                // A redirect would send the signed change somewhere the tenant did not name: it counts as a failure.
                AllowAutoRedirect = false,
                UseCookies = false,
                ConnectTimeout = sp.GetRequiredService<IOptions<NotificationOptions>>().Value.Timeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            })
            // The factory's request logs would print the platform's URL, which may carry a token of its own.
            .RemoveAllLoggers();

        services.TryAddSingleton<NotificationTargets>();
        services.TryAddSingleton<NotificationSender>();
        services.TryAddSingleton<EndpointBreaker>();
        services.TryAddSingleton<NotificationRetryQueue>();
        services.TryAddSingleton<PendingConfirmations>();
        services.TryAddSingleton<NotificationPump>();
        services.TryAddSingleton<MailgunUnsubscribeQueue>();
        // Transient: it holds the typed Mailgun API client (see MailgunApiRegistration).
        services.TryAddTransient<MailgunUnsubscribeSync>();
        services.TryAddSingleton<DndChangeDispatcher>();
        services.TryAddSingleton<IDndChangeDispatch>(sp => sp.GetRequiredService<DndChangeDispatcher>());
        services.TryAddSingleton<NotificationDelivery>();
        services.TryAddSingleton<NotificationDeadLetters>();
        services.TryAddSingleton<DndChangeSweeper>();
        services.TryAddSingleton<DndExpiryIndex>();
        services.TryAddSingleton<DndExpiry>();
        services.TryAddSingleton<DndChangeFeed>();
        return services;
    }
}
