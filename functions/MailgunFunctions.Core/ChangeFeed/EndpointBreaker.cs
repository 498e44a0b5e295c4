using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.ChangeFeed;

/// <summary>
/// Per instance and tenant: once the platform endpoint fails as an endpoint (no connection, timeout, 5xx), the tenant's
/// other notifications wait for a back-off instead of each trying (and timing out) in turn; the first one after the wait
/// probes. So a dead endpoint of one tenant costs one attempt per back-off period, not one per change, and never holds the
/// workers that deliver other tenants' changes.
/// </summary>
public sealed class EndpointBreaker(IOptions<NotificationOptions> options)
{
    private readonly NotificationOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, (int Failures, DateTimeOffset RetryAt)> _failing = new(StringComparer.Ordinal);

    /// <summary>When the tenant's endpoint may be tried again, or null when it may be tried now.</summary>
    public DateTimeOffset? WaitUntil(string tenant, DateTimeOffset now) =>
        _failing.TryGetValue(tenant, out var state) && state.RetryAt > now ? state.RetryAt : null;

    /// <summary>Records an endpoint failure; returns when to try again.</summary>
    public DateTimeOffset Failed(string tenant, DateTimeOffset now)
    {
        var state = _failing.AddOrUpdate(tenant,
            _ => (1, now + Backoff.Delay(1, _options)),
            (_, s) => (s.Failures + 1, now + Backoff.Delay(s.Failures + 1, _options)));
        return state.RetryAt;
    }

    public void Succeeded(string tenant) => _failing.TryRemove(tenant, out _);
}

/// <summary>The retry schedule: FirstRetryDelay doubled per attempt, capped at MaxRetryDelay, with ±10 % jitter so retries of many changes spread out.</summary>
public static class Backoff
{
    public static TimeSpan Delay(int attempt, NotificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        double factor = Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(options.MaxRetryDelay.Ticks, options.FirstRetryDelay.Ticks * factor));
        // Jitter is not business time: Random, not the clock.
        return delay * (0.9 + (Random.Shared.NextDouble() * 0.2));
    }
}
