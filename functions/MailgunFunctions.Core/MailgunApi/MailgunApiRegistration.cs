using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace MailgunFunctions.MailgunApi;

public static class MailgunApiRegistration
{
    /// <summary>
    /// Registers <see cref="MailgunApiClient"/> as a typed HTTP client with <see cref="MailgunApiOptions"/> (section
    /// "MailgunApi", validated at start-up). Its handler retries 429 (waiting as long as Mailgun's hint asks, capped),
    /// 5xx, 408 and network errors with exponential backoff and jitter, and limits each attempt.
    /// </summary>
    public static IServiceCollection AddMailgunApi(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<MailgunApiOptions>().Bind(configuration.GetSection(MailgunApiOptions.Section))
            // A domain entry with an empty name is unset (local.settings.sample.json and templates carry empty slots).
            .PostConfigure(o => o.Domains.RemoveAll(d => string.IsNullOrWhiteSpace(d.Name)))
            .ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MailgunApiOptions>, MailgunApiOptionsValidator>());

        // Transient like the typed client it wraps (a singleton would keep one HttpClient handler for ever).
        services.TryAddTransient<MailgunSetup>();
        services.AddHttpClient<MailgunApiClient>(http =>
            {
                // Attempts and retries are timed by the resilience handler; HttpClient's own 100 s would cut a run short while it honours a 429.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            // The factory's default request logs print the URL path, which names the address of single-address calls;
            // the client logs each page and retry itself (MailgunApiLog) without personal data.
            .RemoveAllLoggers()
            .AddResilienceHandler("mailgun-api", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<MailgunApiOptions>>().Value;
                var time = context.ServiceProvider.GetRequiredService<TimeProvider>();
                var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger<MailgunApiClient>();
                // Polly refuses MaxRetryAttempts 0: "no retries" means no retry strategy at all.
                if (options.MaxRetryAttempts == 0)
                {
                    pipeline.AddTimeout(options.AttemptTimeout);
                    return;
                }

                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    // The default predicate already covers 408, 429, 5xx, HttpRequestException and attempt timeouts; 401/403 are not retried.
                    MaxRetryAttempts = options.MaxRetryAttempts,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = options.RetryBaseDelay,
                    MaxDelay = options.MaxRetryDelay,
                    ShouldRetryAfterHeader = false,
                    DelayGenerator = args => RetryHint.FromResponseAsync(args.Outcome.Result, time.GetUtcNow(), options.MaxRetryDelay, args.Context.CancellationToken),
                    OnRetry = args =>
                    {
                        var request = args.Outcome.Result?.RequestMessage;
                        string outcome = args.Outcome.Result is { } response ? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : args.Outcome.Exception?.GetType().Name ?? "error";
                        MailgunApiLog.Retrying(logger, request?.Method.Method ?? "?", MailgunApiClient.PathForLogs(request?.RequestUri), outcome, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds);
                        return default;
                    },
                });
                pipeline.AddTimeout(options.AttemptTimeout);
            });
        return services;
    }
}
