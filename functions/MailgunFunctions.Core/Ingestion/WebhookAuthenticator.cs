using System.Buffers;
using System.Buffers.Text;
using System.Text;
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

    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();
    private readonly WebhookOptions _options = options.Value;

    /// <summary>Returns the authentication, or the rejection (always a 401, so a wrong key loses nothing: Mailgun retries).</summary>
    public WebhookAuthentication? Authenticate(string timestamp, string token, string signature, out IntakeResult? rejection)
    {
        if (token.Length > MaxTokenLength)
        {
            rejection = IntakeResult.SignatureMalformed("the token is too long");
            return null;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(timestamp.Length + token.Length + signature.Length));
        try
        {
            int t = Encoding.UTF8.GetBytes(timestamp, buffer);
            int k = Encoding.UTF8.GetBytes(token, 0, token.Length, buffer, t);
            int s = Encoding.UTF8.GetBytes(signature, 0, signature.Length, buffer, t + k);
            return Authenticate(buffer.AsSpan(0, t), buffer.AsSpan(t, k), buffer.AsSpan(t + k, s), out rejection);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The same rule over UTF-8 bytes, for the events webhook's allocation-free path.</summary>
    public WebhookAuthentication? Authenticate(ReadOnlySpan<byte> timestamp, ReadOnlySpan<byte> token, ReadOnlySpan<byte> signatureHex, out IntakeResult? rejection)
    {
        rejection = null;
        if (token.Length > MaxTokenLength)
        {
            rejection = IntakeResult.SignatureMalformed("the token is too long");
            return null;
        }

        // The key verifies the timestamp *string* as sent; it is parsed only afterwards, for freshness.
        SigningKey? key = verifier.Verify(timestamp, token, signatureHex);
        if (key is null)
        {
            rejection = IntakeResult.SignatureInvalid;
            return null;
        }

        if (timestamp.IsEmpty || timestamp.ContainsAnyExceptInRange((byte)'0', (byte)'9')
            || !Utf8Parser.TryParse(timestamp, out long seconds, out int consumed) || consumed != timestamp.Length || seconds > MaxUnixSeconds)
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
