using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Tenants;

/// <summary>The sealed value was made with a key-encryption key this app does not have, or was altered.</summary>
public sealed class SecretUnreadableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Envelope encryption of the registry's secrets. Each value gets a fresh random data key; the value is sealed with
/// it (AES-256-GCM), and the data key with the active key-encryption key (AES-256-GCM, the KEK derived with HKDF from
/// the configured text). Both seals authenticate the tenant id and the field name, so a sealed value copied to another
/// tenant or field does not open. Stored as text:
/// <c>mgs1.{kek id}.{base64url(nonce | sealed data key | tag)}.{base64url(nonce | sealed value | tag)}</c>.
/// Rotating the KEK re-seals only the data keys (<see cref="Rewrap"/>); values never need to be decrypted for it.
/// </summary>
public sealed class SecretBox
{
    private const string Prefix = "mgs1";
    private const int KeyBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private readonly Dictionary<string, byte[]> _keks;
    private readonly string? _activeKeyId;

    public SecretBox(IOptions<TenantsOptions> options)
    {
        _keks = options.Value.ConfiguredKeys.ToDictionary(
            k => k.Key,
            k => HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(k.Value.Trim()), KeyBytes, salt: [], info: "tenant-registry-kek-v1"u8.ToArray()),
            StringComparer.Ordinal);
        _activeKeyId = options.Value.EffectiveActiveKeyId;
    }

    /// <summary>Whether secrets can be sealed (a key-encryption key is configured).</summary>
    public bool CanSeal => _activeKeyId is not null && _keks.ContainsKey(_activeKeyId);

    public string? ActiveKeyId => _activeKeyId;

    /// <summary>Seals <paramref name="secret"/> for one field of one tenant.</summary>
    public string Seal(string tenant, string field, string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        if (!CanSeal)
        {
            throw new InvalidOperationException($"No key-encryption key: set '{TenantsOptions.Section}__KeyEncryptionKeys__<id>' (and '{TenantsOptions.Section}__ActiveKeyId').");
        }

        byte[] dataKey = RandomNumberGenerator.GetBytes(KeyBytes);
        try
        {
            string wrapped = SealBytes(_keks[_activeKeyId!], dataKey, Context("dek", tenant, field, _activeKeyId!));
            string value = SealBytes(dataKey, Encoding.UTF8.GetBytes(secret), Context("value", tenant, field, ""));
            return string.Join('.', Prefix, _activeKeyId, wrapped, value);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>Opens a value sealed for this tenant and field; throws <see cref="SecretUnreadableException"/> otherwise.</summary>
    public string Open(string tenant, string field, string sealedText)
    {
        var (keyId, wrapped, value) = Split(sealedText);
        if (!_keks.TryGetValue(keyId, out byte[]? kek))
        {
            throw new SecretUnreadableException($"the {field} of tenant '{tenant}' was sealed with key-encryption key '{keyId}', which is not configured ('{TenantsOptions.Section}__KeyEncryptionKeys__{keyId}')");
        }

        byte[] dataKey = OpenBytes(kek, wrapped, Context("dek", tenant, field, keyId), tenant, field);
        try
        {
            return Encoding.UTF8.GetString(OpenBytes(dataKey, value, Context("value", tenant, field, ""), tenant, field));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>The key id a value was sealed with (shown by <c>tenant show</c>, never the value).</summary>
    public static string KeyIdOf(string sealedText) => Split(sealedText).KeyId;

    /// <summary>Whether <paramref name="text"/> has the shape of a sealed value (a plain secret never does).</summary>
    public static bool IsSealed(string? text) => text is not null && text.StartsWith(Prefix + ".", StringComparison.Ordinal) && text.Split('.').Length == 4;

    /// <summary>Re-seals the data key of <paramref name="sealedText"/> with the active KEK; the value itself is not decrypted.</summary>
    public string Rewrap(string tenant, string field, string sealedText)
    {
        var (keyId, wrapped, value) = Split(sealedText);
        if (keyId == _activeKeyId)
        {
            return sealedText;
        }

        if (!_keks.TryGetValue(keyId, out byte[]? old) || !CanSeal)
        {
            throw new SecretUnreadableException($"cannot re-seal the {field} of tenant '{tenant}': key-encryption key '{keyId}' or the active key is not configured");
        }

        byte[] dataKey = OpenBytes(old, wrapped, Context("dek", tenant, field, keyId), tenant, field);
        try
        {
            return string.Join('.', Prefix, _activeKeyId, SealBytes(_keks[_activeKeyId!], dataKey, Context("dek", tenant, field, _activeKeyId!)), value);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    private static (string KeyId, string Wrapped, string Value) Split(string sealedText)
    {
        string[] parts = sealedText?.Split('.') ?? [];
        if (parts.Length != 4 || parts[0] != Prefix)
        {
            throw new SecretUnreadableException("not a sealed secret");
        }

        return (parts[1], parts[2], parts[3]);
    }

    // The purpose, tenant, field and KEK id are bound as associated data: a seal opens only where it was made.
    private static byte[] Context(string purpose, string tenant, string field, string keyId) => Encoding.UTF8.GetBytes(string.Join('\n', "mgs1", purpose, tenant, field, keyId));

    private static string SealBytes(byte[] key, byte[] plain, byte[] associated)
    {
        byte[] output = new byte[NonceBytes + plain.Length + TagBytes];
        var nonce = output.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagBytes);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceBytes, plain.Length), output.AsSpan(NonceBytes + plain.Length, TagBytes), associated);
        return System.Buffers.Text.Base64Url.EncodeToString(output);
    }

    private static byte[] OpenBytes(byte[] key, string text, byte[] associated, string tenant, string field)
    {
        if (!System.Buffers.Text.Base64Url.IsValid(text))
        {
            throw new SecretUnreadableException($"the {field} of tenant '{tenant}' is not a readable sealed value");
        }

        byte[] input = System.Buffers.Text.Base64Url.DecodeFromChars(text);
        if (input.Length < NonceBytes + TagBytes)
        {
            throw new SecretUnreadableException($"the {field} of tenant '{tenant}' is not a readable sealed value");
        }

        byte[] plain = new byte[input.Length - NonceBytes - TagBytes];
        try
        {
            using var aes = new AesGcm(key, TagBytes);
            aes.Decrypt(input.AsSpan(0, NonceBytes), input.AsSpan(NonceBytes, plain.Length), input.AsSpan(NonceBytes + plain.Length, TagBytes), plain, associated);
        }
        catch (CryptographicException ex)
        {
            throw new SecretUnreadableException($"the {field} of tenant '{tenant}' does not open: it was altered, or sealed for another tenant or field", ex);
        }

        return plain;
    }
}
