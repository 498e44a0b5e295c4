using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MailgunFunctions.Testing;
using MailgunFunctions.MailgunApi;

namespace MailgunFunctions.Tests.MailgunApi;

public class RetryHintTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(60);

    private static HttpResponseMessage Response(HttpStatusCode status, string? body = null) => new(status)
    {
        Content = new StringContent(body ?? "{}", Encoding.UTF8, "application/json"),
    };

    [Test]
    public async Task Retry_After_in_seconds_is_used()
    {
        using var response = Response(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
        Assert.That(await RetryHint.FromResponseAsync(response, Now, Cap, default), Is.EqualTo(TimeSpan.FromSeconds(7)));
    }

    [Test]
    public async Task Retry_After_as_a_date_counts_from_now()
    {
        using var response = Response(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = new RetryConditionHeaderValue(Now.AddSeconds(12));
        Assert.That(await RetryHint.FromResponseAsync(response, Now, Cap, default), Is.EqualTo(TimeSpan.FromSeconds(12)));
    }

    [Test]
    public async Task Mailgun_retry_seconds_header_and_body_are_used()
    {
        using var header = Response(HttpStatusCode.TooManyRequests);
        header.Headers.Add("retry-seconds", "3");
        using var body = Response(HttpStatusCode.TooManyRequests, "{\"message\":\"slow down\",\"retry-seconds\":4.5}");
        Assert.That(await RetryHint.FromResponseAsync(header, Now, Cap, default), Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(await RetryHint.FromResponseAsync(body, Now, Cap, default), Is.EqualTo(TimeSpan.FromSeconds(4.5)));
    }

    [Test]
    public async Task A_hint_longer_than_the_cap_is_capped()
    {
        using var response = Response(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromHours(2));
        Assert.That(await RetryHint.FromResponseAsync(response, Now, Cap, default), Is.EqualTo(Cap));
    }

    [TestCase(HttpStatusCode.TooManyRequests, "{\"message\":\"no hint\"}")]
    [TestCase(HttpStatusCode.TooManyRequests, "not json")]
    [TestCase(HttpStatusCode.InternalServerError, "{\"retry-seconds\":5}")]
    public async Task Without_a_usable_hint_the_backoff_decides(HttpStatusCode status, string body)
    {
        using var response = Response(status, body);
        Assert.That(await RetryHint.FromResponseAsync(response, Now, Cap, default), Is.Null);
    }
}
