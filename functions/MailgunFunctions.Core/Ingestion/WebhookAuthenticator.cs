using System.Globalization;
using MailgunFunctions.Signatures;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Ingestion;

/// <summary>A verified signature block: the key that signed it, when Mailgun signed it, and when we checked it.</summary>
public sealed record WebhookAuthentication(SigningKey Key, DateTimeOffset SignedAt, DateTimeOffset CheckedAt);

/// <summary>
/// The one rule every Mailgun webhook passes (events and inbound routes): the signature verifies with a
/// configured signing key, and its timestamp is inside the freshness window in both directions. Replay
/// within the window is stopped by <see cref="ReplayGuard"/>, not here.
/// </summary>
public sealed class WebhookAuthenticator(SignatureVerifier verifier, IOptions<WebhookOptions> options, TimeProvider time)
{
    /// <summary>Mailgun's tokens are 50 characters; anything much longer is not from Mailgun and only costs hashing.</summary>
    public const int MaxTokenLength = 256;

    private readonly WebhookOptions _options = options.Value;

    /// <summary>Returns the authentication, or the rejection (always a 401, so a wrong key loses nothing: Mailgun retries).</summary>
    public WebhookAuthentication? Authenticate(string timestamp, string token, string signature, out IntakeResult? rejection)
    {
        rejection = null;
        if (token.Length > MaxTokenLength)
        {
            rejection = IntakeResult.SignatureMalformed("the token is too long");
            return null;
        }

        // The key verifies the timestamp *string* as sent; parse it only afterwards, for freshness.
        SigningKey? key = verifier.Verify(timestamp, token, signature);
        if (key is null)
        {
            rejection = IntakeResult.SignatureInvalid;
            return null;
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            rejection = IntakeResult.SignatureMalformed("the signature timestamp is not a whole number of seconds");
            return null;
        }

        DateTimeOffset now = time.GetUtcNow();
        DateTimeOffset signedAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
        TimeSpan age = now - signedAt;
        if (age > _options.MaxSignatureAge)
        {
            rejection = IntakeResult.TimestampStale(age);
            return null;
        }

        if (-age > _options.MaxClockSkew)
        {
            rejection = IntakeResult.TimestampInFuture(-age);
            return null;
        }

        return new WebhookAuthentication(key, signedAt, now);
    }
}
