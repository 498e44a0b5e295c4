using System.Security.Cryptography;
using System.Text;

namespace MailgunFunctions.Signatures;

/// <summary>A webhook signing key with the id that names it in logs and envelopes (never the key itself).</summary>
public sealed record SigningKey(string Id, string Secret);

/// <summary>
/// Verifies Mailgun's webhook signature: lowercase hex HMAC-SHA256 of the signature timestamp string
/// followed by the token (no separator), keyed with the HTTP webhook signing key's bytes as typed.
/// The signature covers only timestamp and token, never the body: replay defence lives in
/// <see cref="Ingestion.ReplayGuard"/>.
/// </summary>
public sealed class SignatureVerifier
{
    private const int SignatureBytes = 32;
    private readonly (SigningKey Key, byte[] Secret)[] _keys;

    public SignatureVerifier(IEnumerable<SigningKey> keys)
    {
        _keys = keys.Select(k => (k, Encoding.UTF8.GetBytes(k.Secret))).ToArray();
        if (_keys.Length == 0)
        {
            throw new ArgumentException("At least one webhook signing key is required.", nameof(keys));
        }
    }

    /// <summary>
    /// Returns the key that produced <paramref name="signature"/>, or null when none did. Several keys are
    /// tried so that a key can be rotated without losing the traffic signed with the old one. Malformed
    /// input (wrong length, not hex) is a plain rejection, never an exception.
    /// </summary>
    public SigningKey? Verify(string timestamp, string token, string signature)
    {
        ArgumentNullException.ThrowIfNull(timestamp);
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(signature);
        if (signature.Length != SignatureBytes * 2)
        {
            return null;
        }

        Span<byte> presented = stackalloc byte[SignatureBytes];
        // Decoding to bytes makes the comparison case-insensitive and lets FixedTimeEquals compare in constant time.
        if (Convert.FromHexString(signature, presented, out _, out int written) != System.Buffers.OperationStatus.Done
            || written != SignatureBytes)
        {
            return null;
        }

        int messageLength = Encoding.UTF8.GetByteCount(timestamp) + Encoding.UTF8.GetByteCount(token);
        byte[]? rented = null;
        Span<byte> message = messageLength <= 512
            ? stackalloc byte[messageLength]
            : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(messageLength)).AsSpan(0, messageLength);
        try
        {
            int n = Encoding.UTF8.GetBytes(timestamp, message);
            Encoding.UTF8.GetBytes(token, message[n..]);

            Span<byte> expected = stackalloc byte[SignatureBytes];
            SigningKey? match = null;
            // Every key is tried even after a match so the time taken does not tell which key matched.
            foreach (var (key, secret) in _keys)
            {
                HMACSHA256.HashData(secret, message, expected);
                if (CryptographicOperations.FixedTimeEquals(expected, presented) && match is null)
                {
                    match = key;
                }
            }

            return match;
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Lowercase hex signature as Mailgun computes it; used by tests, the CLI and the benchmarks.</summary>
    public static string Sign(string secret, string timestamp, string token)
    {
        byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + token));
        return Convert.ToHexStringLower(mac);
    }
}
