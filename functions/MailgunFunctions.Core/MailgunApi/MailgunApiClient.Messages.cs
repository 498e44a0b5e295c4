namespace MailgunFunctions.MailgunApi;

/// <summary>Sending a message through Mailgun (what <c>setup test-route</c> needs; the platform sends its own mail elsewhere).</summary>
public sealed partial class MailgunApiClient
{
    /// <summary>
    /// Sends a plain-text message from the domain (<c>POST /v3/{domain}/messages</c>, form <c>from</c>, <c>to</c>,
    /// <c>subject</c>, <c>text</c>) and returns Mailgun's message id (<c>id</c> of the answer, empty when it gives none).
    /// </summary>
    public async Task<string> SendMessageAsync(MailgunDomain domain, string from, string to, string subject, string text, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(from);
        ArgumentException.ThrowIfNullOrWhiteSpace(to);
        var target = Resolve(domain);
        using var form = new FormUrlEncodedContent([new("from", from), new("to", to), new("subject", subject), new("text", text)]);
        using var response = await SendAsync(HttpMethod.Post, new Uri(target.BaseUrl, $"v3/{target.Name}/messages"), target, allowNotFound: false, cancellationToken, form).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return (string?)Newtonsoft.Json.Linq.JObject.Parse(body)["id"] ?? "";
        }
        catch (Newtonsoft.Json.JsonReaderException)
        {
            // Queued is what the 200 says; the id is only for the operator's eyes.
            return "";
        }
    }
}
