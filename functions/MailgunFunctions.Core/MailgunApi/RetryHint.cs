using System.Globalization;
using System.Net;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.MailgunApi;

/// <summary>
/// How long Mailgun asks us to wait before retrying. A 429 may carry the standard <c>Retry-After</c> header
/// (seconds or an HTTP date) or Mailgun's own <c>retry-seconds</c> (seen as a header and in the JSON body).
/// </summary>
public static class RetryHint
{
    // A 429 body is a short JSON message; never read more than this to find the hint.
    private const int MaxBodyBytes = 16 * 1024;

    /// <summary>The delay the response asks for, capped at <paramref name="cap"/>; null when it gives none (the caller then backs off exponentially).</summary>
    public static async ValueTask<TimeSpan?> FromResponseAsync(HttpResponseMessage? response, DateTimeOffset now, TimeSpan cap, CancellationToken cancellationToken)
    {
        if (response is null || (response.StatusCode != HttpStatusCode.TooManyRequests && response.StatusCode != HttpStatusCode.ServiceUnavailable))
        {
            return null;
        }

        TimeSpan? hint = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - now,
            _ => null,
        };

        if (hint is null && response.Headers.TryGetValues("retry-seconds", out var values))
        {
            hint = Seconds(values.FirstOrDefault());
        }

        if (hint is null && response.StatusCode == HttpStatusCode.TooManyRequests
            && response.Content.Headers.ContentLength is null or <= MaxBodyBytes
            && response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            hint = await FromBodyAsync(response, cancellationToken).ConfigureAwait(false);
        }

        if (hint is not { } value)
        {
            return null;
        }

        return value < TimeSpan.Zero ? TimeSpan.Zero : value > cap ? cap : value;
    }

    private static async Task<TimeSpan?> FromBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (body.Length > MaxBodyBytes)
            {
                return null;
            }

            return JToken.Parse(body) is JObject json ? Seconds(json.Value<JToken>("retry-seconds")?.ToString()) : null;
        }
        catch (Newtonsoft.Json.JsonException)
        {
            return null;
        }
    }

    private static TimeSpan? Seconds(string? text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0 && seconds < 86_400
            ? TimeSpan.FromSeconds(seconds)
            : null;
}
