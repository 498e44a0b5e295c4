using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.ChangeFeed;

/// <summary>The signed HTTPS POSTs of DND changes to the platform (section "Notifications").</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary>
    /// Where the single-account tenant's changes are posted (the registry's tenants have their own NotificationUrl).
    /// Empty: that tenant's changes go to the dnd-changes queue only. HTTPS; plain HTTP only to a loopback address (tests, local runs).
    /// </summary>
    public string? DefaultUrl { get; set; }

    /// <summary>The secret that signs the single-account tenant's notifications (HMAC-SHA256; at least 32 characters; Key Vault in Azure).</summary>
    public string? DefaultSecret { get; set; }

    /// <summary>
    /// Longest wait for the platform's answer to one POST, connection included. Default 10 seconds: a receiver only has to
    /// store the change; a slow one is retried later instead of holding a worker.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Delay before the first retry of a failed POST; each further retry waits twice as long (with jitter), up to MaxRetryDelay. Default 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest delay between two attempts. Default 1 hour (a queue message can be hidden for at most 7 days).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a change is retried before it is parked in the dead-letter table (mailgun-ops notifications replay). Default
    /// and minimum 24 hours: a platform outage over a night loses nothing and needs nobody.
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "6.00:00:00")]
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(24);

    /// <summary>POSTs one instance has in flight at once (first attempts of fresh changes). Default 32.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentPosts { get; set; } = 32;

    /// <summary>
    /// Fresh changes an instance holds for its first POST before it hands further ones straight to the retry queue (so a
    /// slow platform never makes processing wait). Default 1000.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxWaitingPosts { get; set; } = 1000;
}

/// <summary>A default URL must be absolute HTTPS (HTTP only on loopback) and come with a secret of at least 32 characters.</summary>
public sealed class NotificationOptionsValidator : IValidateOptions<NotificationOptions>
{
    public const int MinimumSecretLength = 32;

    public ValidateOptionsResult Validate(string? name, NotificationOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.DefaultUrl))
        {
            if (NotificationTargets.UrlProblem(options.DefaultUrl) is { } problem)
            {
                failures.Add($"'{NotificationOptions.Section}__DefaultUrl': {problem}.");
            }

            if (string.IsNullOrWhiteSpace(options.DefaultSecret) || options.DefaultSecret.Trim().Length < MinimumSecretLength)
            {
                failures.Add($"'{NotificationOptions.Section}__DefaultSecret' must be at least {MinimumSecretLength} characters of random text when '{NotificationOptions.Section}__DefaultUrl' is set.");
            }
        }

        if (options.FirstRetryDelay > options.MaxRetryDelay)
        {
            failures.Add($"'{NotificationOptions.Section}__FirstRetryDelay' must not exceed '{NotificationOptions.Section}__MaxRetryDelay'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
