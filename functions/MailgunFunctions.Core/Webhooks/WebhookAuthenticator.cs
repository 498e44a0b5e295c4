using System.Buffers;
using System.Buffers.Text;
using System.Text;
using MailgunFunctions.Settings;
using MailgunFunctions.Signatures;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Webhooks;

/// <summary>
/// A verified signature block: the tenant and key that signed it, when Mailgun signed it, and when we checked it.
/// <see cref="ViaParent"/>: verified by the parent account's key (<c>parent-signature</c>), so the caller must also check
/// that the event belongs to the tenant (its domain or account id), since one parent key signs every subaccount's events.
/// </summary>
public sealed record WebhookAuthentication(string Tenant, SigningKey Key, DateTimeOffset SignedAt, DateTimeOffset CheckedAt, bool ViaParent = false);

/// <summary>
/// The one rule every Mailgun webhook passes (events and inbound routes): the signature verifies with a signing key
/// <b>of the tenant the URL names</b> (its own keys; its parent account's key only through <c>parent-signature</c> and
/// only when the tenant trusts it), and its timestamp is inside the freshness window in both directions. A key of
/// another tenant never verifies. Replay within the window is stopped by <see cref="ReplayGuard"/>, not here.
/// </summary>
public sealed class WebhookAuthenticator(IOptions<WebhookOptions> options, TimeProvider time)
{
    /// <summary>Mailgun's tokens are 50 characters; anything much longer is not from Mailgun and only costs hashing.</summary>
    public const int MaxTokenLength = 256;

    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();
    private readonly WebhookOptions _options = options.Value;

    /// <summary>Returns the authentication, or the rejection (always a 401, so a wrong key loses nothing: Mailgun retries).</summary>
    public WebhookAuthentication? Authenticate(ResolvedTenant tenant, string timestamp, string token, string signature, string? parentSignature, out IntakeResult? rejection)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        if (token.Length > MaxTokenLength)
        {
            rejection = IntakeResult.SignatureMalformed("the token is too long");
            return null;
        }

        parentSignature ??= "";
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(timestamp.Length + token.Length + signature.Length + parentSignature.Length));
        try
        {
            int t = Encoding.UTF8.GetBytes(timestamp, buffer);
            int k = Encoding.UTF8.GetBytes(token, 0, token.Length, buffer, t);
            int s = Encoding.UTF8.GetBytes(signature, 0, signature.Length, buffer, t + k);
            int p = Encoding.UTF8.GetBytes(parentSignature, 0, parentSignature.Length, buffer, t + k + s);
            return Authenticate(tenant, buffer.AsSpan(0, t), buffer.AsSpan(t, k), buffer.AsSpan(t + k, s), buffer.AsSpan(t + k + s, p), out rejection);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The same rule over UTF-8 bytes, for the events webhook's allocation-free path.</summary>
    public WebhookAuthentication? Authenticate(ResolvedTenant tenant, ReadOnlySpan<byte> timestamp, ReadOnlySpan<byte> token, ReadOnlySpan<byte> signatureHex,
        ReadOnlySpan<byte> parentSignatureHex, out IntakeResult? rejection)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        rejection = null;
        if (token.Length > MaxTokenLength)
        {
            rejection = IntakeResult.SignatureMalformed("the token is too long");
            return null;
        }

        // The key verifies the timestamp *string* as sent; it is parsed only afterwards, for freshness.
        SigningKey? key = tenant.Keys.Verify(timestamp, token, signatureHex);
        bool viaParent = false;
        if (key is null && tenant.ParentKeys is { } parentKeys && !parentSignatureHex.IsEmpty)
        {
            key = parentKeys.Verify(timestamp, token, parentSignatureHex);
            viaParent = key is not null;
        }

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

        return new WebhookAuthentication(tenant.Id, key, signedAt, now, viaParent);
    }
}
