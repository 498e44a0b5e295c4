using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace MailgunFunctions.Signatures;

/// <summary>A webhook signing key with the id that names it in logs and envelopes (never the key itself).</summary>
public sealed record SigningKey(string Id, string Secret);

/// <summary>
/// Verifies Mailgun's webhook signature: lowercase hex HMAC-SHA256 of the signature timestamp string
/// followed by the token (no separator), keyed with the HTTP webhook signing key's bytes as typed. One instance holds
/// one tenant's keys (or a parent account's), so a key of one tenant never verifies another's events.
/// The signature covers only timestamp and token, never the body: replay defence lives in
/// <see cref="MailgunFunctions.Webhooks.ReplayGuard"/>.
/// </summary>
public sealed class SignatureVerifier
{
    private const int SignatureBytes = 32;
    private const int StackLimit = 512;
    private readonly (SigningKey Key, byte[] Secret)[] _keys;

    public SignatureVerifier(IEnumerable<SigningKey> keys)
    {
        _keys = keys.Select(k => (k, Encoding.UTF8.GetBytes(k.Secret))).ToArray();
    }

    /// <summary>Verifies nothing: a tenant without keys of its own (it trusts only its parent account's key).</summary>
    public static SignatureVerifier None { get; } = new([]);

    /// <summary>How many keys are tried.</summary>
    public int Count => _keys.Length;

    /// <summary>Returns the key that produced <paramref name="signature"/>, or null when none did.</summary>
    public SigningKey? Verify(string timestamp, string token, string signature)
    {
        ArgumentNullException.ThrowIfNull(timestamp);
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(signature);
        int length = Encoding.UTF8.GetByteCount(timestamp) + Encoding.UTF8.GetByteCount(token) + Encoding.UTF8.GetByteCount(signature);
        byte[]? rented = null;
        Span<byte> buffer = length <= StackLimit ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            int t = Encoding.UTF8.GetBytes(timestamp, buffer);
            int k = Encoding.UTF8.GetBytes(token, buffer[t..]);
            int s = Encoding.UTF8.GetBytes(signature, buffer[(t + k)..]);
            return Verify(buffer[..t], buffer.Slice(t, k), buffer.Slice(t + k, s));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Returns the key that produced the hex <paramref name="signatureHex"/> over the UTF-8
    /// <paramref name="timestamp"/> and <paramref name="token"/>, or null when none did. Several keys are tried
    /// so that a key can be rotated without losing traffic signed with the old one. Malformed input (wrong
    /// length, not hex) is a plain rejection, never an exception.
    /// </summary>
    public SigningKey? Verify(ReadOnlySpan<byte> timestamp, ReadOnlySpan<byte> token, ReadOnlySpan<byte> signatureHex)
    {
        if (signatureHex.Length != SignatureBytes * 2)
        {
            return null;
        }

        // Decoding to bytes makes the comparison case-insensitive and lets FixedTimeEquals compare in constant time.
        Span<char> hex = stackalloc char[SignatureBytes * 2];
        for (int i = 0; i < hex.Length; i++)
        {
            hex[i] = (char)signatureHex[i];
        }

        Span<byte> presented = stackalloc byte[SignatureBytes];
        if (Convert.FromHexString(hex, presented, out _, out int written) != OperationStatus.Done || written != SignatureBytes)
        {
            return null;
        }

        int length = timestamp.Length + token.Length;
        byte[]? rented = null;
        Span<byte> message = length <= StackLimit ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            timestamp.CopyTo(message);
            token.CopyTo(message[timestamp.Length..]);
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
                ArrayPool<byte>.Shared.Return(rented);
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
