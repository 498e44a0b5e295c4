using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.ChangeFeed;

/// <summary>The answer to one POST.</summary>
/// <param name="Delivered">The platform answered 2xx.</param>
/// <param name="EndpointFailing">The failure says the endpoint itself is in trouble (no connection, timeout, 5xx, 408, 429), not this one notice.</param>
/// <param name="Error">What went wrong, for logs and dead letters ("HTTP 500", "timeout after 00:00:10", "connection refused"...).</param>
public sealed record PostResult(bool Delivered, bool EndpointFailing, string Error)
{
    public static readonly PostResult Ok = new(true, false, "");
}

/// <summary>
/// One signed POST of one notice (see <see cref="NotificationSignature"/>), bounded by <see cref="NotificationOptions.Timeout"/>
/// on the injected clock, never following redirects. It never throws for the platform's behaviour: every outcome is a
/// <see cref="PostResult"/>.
/// </summary>
public sealed class NotificationSender(IHttpClientFactory clients, IOptions<NotificationOptions> options, TimeProvider time)
{
    /// <summary>The named HttpClient (its handler is configured by the registration: no redirects, connect timeout).</summary>
    public const string ClientName = "dnd-notifications";

    private readonly NotificationOptions _options = options.Value;

    public async Task<PostResult> PostAsync(NotificationTarget target, string noticeJson, string noticeId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (NotificationTargets.UrlProblem(target.Url) is { } problem)
        {
            return new PostResult(false, true, "url_invalid: " + problem);
        }

        if (string.IsNullOrEmpty(target.Secret))
        {
            // Unsigned notices would be worthless to a receiver that verifies; an operator sets the secret and the retries deliver.
            return new PostResult(false, true, "secret_missing: the tenant has a notification URL but no notification secret");
        }

        byte[] body = Encoding.UTF8.GetBytes(noticeJson);
        long timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(NotificationSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(NotificationSignature.SignatureHeader, NotificationSignature.Sign(target.Secret, timestamp, body));
        request.Headers.Add(NotificationSignature.IdHeader, noticeId);
        request.Headers.Add(NotificationSignature.TenantHeader, target.Tenant);

        // On the injected clock, so tests decide when a hanging receiver times out.
        using var timeout = new CancellationTokenSource(_options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            int status = (int)response.StatusCode;
            return status is >= 200 and <= 299 ? PostResult.Ok
                : new PostResult(false, status >= 500 || status is 408 or 429, $"HTTP {status}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new PostResult(false, true, $"timeout after {_options.Timeout:c}");
        }
        catch (HttpRequestException ex)
        {
            return new PostResult(false, true, ex.HttpRequestError == HttpRequestError.Unknown ? FirstLine(ex.Message) : ex.HttpRequestError.ToString());
        }
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
