using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.PlatformUnsubscribe;

/// <summary>What an unsubscribe link stands for.</summary>
public sealed record UnsubscribeRequest(string Tenant, string Address, string? ContactId, string? Campaign, DateTimeOffset IssuedAt);

/// <summary>Why a token was refused; each maps to a friendly page.</summary>
public enum TokenProblem
{
    None,
    /// <summary>Not a token at all, or altered: 400.</summary>
    Malformed,
    /// <summary>Made with a key that has been retired (or never existed): 404.</summary>
    UnknownKey,
}

/// <summary>
/// The compact token in the platform's unsubscribe links: <c>{keyId}.{payload}.{mac}</c>, base64url. The payload
/// (tenant, address, contact id, campaign, issue time) is encrypted with AES-GCM so no address is readable in a URL
/// (links end up in logs and proxies); the whole token is signed with HMAC-SHA256 so it cannot be forged or altered.
/// Both keys are derived from the configured link key, one purpose each.
/// </summary>
public sealed class UnsubscribeTokenCodec
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int MacBytes = 32;
    private const int MaxTokenLength = 2048;
    private readonly Dictionary<string, (byte[] Encryption, byte[] Mac)> _keys;
    private readonly string? _activeKeyId;

    public UnsubscribeTokenCodec(IOptions<UnsubscribeOptions> options)
    {
        _keys = options.Value.ConfiguredKeys.ToDictionary(
            k => k.Key,
            k => (Derive(k.Value, "unsubscribe-token-encryption-v1"), Derive(k.Value, "unsubscribe-token-mac-v1")),
            StringComparer.Ordinal);
        _activeKeyId = options.Value.ActiveKeyId;
    }

    public bool CanCreate => _activeKeyId is not null && _keys.ContainsKey(_activeKeyId);

    public string Create(UnsubscribeRequest request)
    {
        if (!CanCreate)
        {
            throw new InvalidOperationException($"No active unsubscribe link key: set '{UnsubscribeOptions.Section}__Keys__<id>' and '{UnsubscribeOptions.Section}__ActiveKeyId'.");
        }

        var (encryption, mac) = _keys[_activeKeyId!];
        byte[] plain = Encoding.UTF8.GetBytes(string.Join('\n', request.Tenant, request.Address, request.ContactId ?? "", request.Campaign ?? ""));
        byte[] sealedPayload = new byte[8 + NonceBytes + plain.Length + TagBytes];
        BinaryPrimitives.WriteInt64BigEndian(sealedPayload, request.IssuedAt.ToUnixTimeSeconds());
        var nonce = sealedPayload.AsSpan(8, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(encryption, TagBytes))
        {
            // The issue time and key id are authenticated as associated data: they cannot be moved to another token.
            aes.Encrypt(nonce, plain, sealedPayload.AsSpan(8 + NonceBytes, plain.Length), sealedPayload.AsSpan(8 + NonceBytes + plain.Length, TagBytes),
                AssociatedData(_activeKeyId!, sealedPayload.AsSpan(0, 8)));
        }

        string head = _activeKeyId + "." + Base64Url(sealedPayload);
        return head + "." + Base64Url(HMACSHA256.HashData(mac, Encoding.ASCII.GetBytes(head)));
    }

    public TokenProblem TryRead(string? token, out UnsubscribeRequest? request)
    {
        request = null;
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return TokenProblem.Malformed;
        }

        string[] parts = token.Split('.');
        if (parts.Length != 3)
        {
            return TokenProblem.Malformed;
        }

        if (!_keys.TryGetValue(parts[0], out var keys))
        {
            return TokenProblem.UnknownKey;
        }

        if (!TryBase64Url(parts[2], out byte[] presented) || presented.Length != MacBytes)
        {
            return TokenProblem.Malformed;
        }

        byte[] expected = HMACSHA256.HashData(keys.Mac, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
        if (!CryptographicOperations.FixedTimeEquals(expected, presented))
        {
            return TokenProblem.Malformed;
        }

        if (!TryBase64Url(parts[1], out byte[] sealedPayload) || sealedPayload.Length < 8 + NonceBytes + TagBytes)
        {
            return TokenProblem.Malformed;
        }

        int plainLength = sealedPayload.Length - 8 - NonceBytes - TagBytes;
        byte[] plain = new byte[plainLength];
        try
        {
            using var aes = new AesGcm(keys.Encryption, TagBytes);
            aes.Decrypt(sealedPayload.AsSpan(8, NonceBytes), sealedPayload.AsSpan(8 + NonceBytes, plainLength),
                sealedPayload.AsSpan(8 + NonceBytes + plainLength, TagBytes), plain, AssociatedData(parts[0], sealedPayload.AsSpan(0, 8)));
        }
        catch (CryptographicException)
        {
            return TokenProblem.Malformed;
        }

        string[] fields = Encoding.UTF8.GetString(plain).Split('\n');
        if (fields.Length != 4 || fields[0].Length == 0 || fields[1].Length == 0)
        {
            return TokenProblem.Malformed;
        }

        long issued = BinaryPrimitives.ReadInt64BigEndian(sealedPayload);
        if (issued < 0 || issued > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return TokenProblem.Malformed;
        }

        request = new UnsubscribeRequest(fields[0], fields[1], fields[2].Length == 0 ? null : fields[2], fields[3].Length == 0 ? null : fields[3],
            DateTimeOffset.FromUnixTimeSeconds(issued));
        return TokenProblem.None;
    }

    private static byte[] AssociatedData(string keyId, ReadOnlySpan<byte> issuedAt) => [.. Encoding.ASCII.GetBytes(keyId), .. issuedAt];

    private static byte[] Derive(string key, string purpose) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(key.Trim()), 32, salt: [], info: Encoding.ASCII.GetBytes(purpose));

    private static string Base64Url(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    private static bool TryBase64Url(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length == 0 || !System.Buffers.Text.Base64Url.IsValid(text))
        {
            return false;
        }

        bytes = System.Buffers.Text.Base64Url.DecodeFromChars(text);
        return true;
    }
}
