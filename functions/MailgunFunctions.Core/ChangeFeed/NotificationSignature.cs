using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MailgunFunctions.ChangeFeed;

/// <summary>
/// How a notification is signed: <c>X-Dnd-Timestamp</c> = Unix seconds when it was sent, <c>X-Dnd-Signature</c> =
/// <c>v1=</c> + lowercase hex HMAC-SHA256, keyed with the UTF-8 bytes of the tenant's secret, of the UTF-8 bytes of
/// <c>{timestamp}.{body}</c>. The timestamp is inside the MAC, so a captured request cannot be resent later with a fresh
/// one; a receiver refuses timestamps older than a few minutes and drops notices it has (same id or a lower version).
/// Each attempt is signed anew (so a retry after a day is fresh); the body, and so the notice id, stays the same.
/// </summary>
public static class NotificationSignature
{
    public const string TimestampHeader = "X-Dnd-Timestamp";
    public const string SignatureHeader = "X-Dnd-Signature";
    public const string IdHeader = "X-Dnd-Notice-Id";
    public const string TenantHeader = "X-Dnd-Tenant";
    public const string Scheme = "v1=";

    /// <summary>How old a timestamp a receiver should accept (and how far ahead): what the docs recommend.</summary>
    public static readonly TimeSpan RecommendedTolerance = TimeSpan.FromMinutes(5);

    public static string Sign(string secret, long unixSeconds, ReadOnlySpan<byte> body)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        byte[] prefix = Encoding.UTF8.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return Scheme + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    /// <summary>The receiver's check (also what the docs show): fresh timestamp, then the MAC compared in constant time.</summary>
    public static bool Verify(string secret, string? timestampHeader, string? signatureHeader, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (!long.TryParse(timestampHeader, NumberStyles.None, CultureInfo.InvariantCulture, out long seconds)
            || signatureHeader is null || !signatureHeader.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return false;
        }

        if (Math.Abs(now.ToUnixTimeSeconds() - seconds) > tolerance.TotalSeconds)
        {
            return false;
        }

        byte[] expected = Encoding.ASCII.GetBytes(Sign(secret, seconds, body));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signatureHeader));
    }
}
