using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MailgunFunctions.Dnd;

/// <summary>
/// Turns tenants and addresses into Table Storage keys. Keys may not hold <c>/ \ # ?</c> or control characters,
/// and email addresses legally contain <c>/ # ?</c>, so those are percent-encoded (with <c>%</c> itself, so the
/// encoding stays reversible, and <c>|</c>, which separates tenant and address in history keys).
/// </summary>
public static class DndKeys
{
    /// <summary>
    /// Longest key kept readable. Keys may be 1 KiB; a history PartitionKey holds a tenant and an address, so
    /// each stays well below half. Longer ones become a readable prefix plus a SHA-256 (always longer than this,
    /// so a hashed key never equals a plain one).
    /// </summary>
    public const int MaxReadableKeyLength = 256;

    private const int HashedPrefixLength = 200;

    /// <summary>
    /// Longest address prefix a RowKey range can find: a key longer than <see cref="MaxReadableKeyLength"/> keeps only its
    /// first 200 characters readable, so a longer prefix would miss it.
    /// </summary>
    public const int MaxPrefixLength = HashedPrefixLength;

    /// <summary>
    /// Longest address taken as one: RFC 5321 allows 254 characters in a path (64 local, 255 domain); an event naming a longer
    /// "recipient" is not about a contact, and its address would not fit the columns that hold it.
    /// </summary>
    public const int MaxAddressLength = 320;

    /// <summary>Longest domain name (RFC 1035): a longer "sending domain" names no tenant.</summary>
    public const int MaxDomainLength = 255;

    /// <summary>Trimmed and lower-cased; a "Name &lt;address&gt;" form (rejected events fall back to the To header) gives the address.</summary>
    public static string NormalizeAddress(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        string a = address.Trim();
        int open = a.LastIndexOf('<');
        int close = a.LastIndexOf('>');
        if (open >= 0 && close > open)
        {
            a = a[(open + 1)..close].Trim();
        }

        return a.ToLowerInvariant();
    }

    /// <summary>Trimmed only: tenant ids are the platform's case-sensitive location ids (see Tenants.TenantId).</summary>
    public static string NormalizeTenant(string tenant) => tenant.Trim();

    /// <summary>The RowKey of an address in <c>DndEntries</c> (and its part of the history PartitionKey).</summary>
    public static string AddressKey(string address) => Encode(NormalizeAddress(address));

    /// <summary>The PartitionKey of a tenant in <c>DndEntries</c>.</summary>
    public static string TenantKey(string tenant) => Encode(NormalizeTenant(tenant));

    /// <summary>The PartitionKey of one address's history: tenant and address, so one address's history is one partition.</summary>
    public static string HistoryPartition(string tenant, string address) => TenantKey(tenant) + "|" + AddressKey(address);

    /// <summary>Newest first: Table Storage sorts RowKeys ascending, so the time is inverted; the hash makes it unique and deterministic.</summary>
    public static string HistoryRow(DateTimeOffset at, string changeKey) =>
        (DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "_" + changeKey;

    /// <summary>Percent-encodes what Table keys forbid; hashes what would be too long.</summary>
    public static string Encode(string value)
    {
        var sb = new StringBuilder(value.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c is '%' or '/' or '\\' or '#' or '?' or '|' || char.IsControl(c))
            {
                int n = Encoding.UTF8.GetBytes(value.AsSpan(i, 1), utf8);
                for (int b = 0; b < n; b++)
                {
                    sb.Append('%').Append(utf8[b].ToString("X2", CultureInfo.InvariantCulture));
                }
            }
            else
            {
                sb.Append(c);
            }
        }

        if (sb.Length <= MaxReadableKeyLength)
        {
            return sb.ToString();
        }

        string full = sb.ToString();
        int cut = HashedPrefixLength;
        if (char.IsHighSurrogate(full[cut - 1]))
        {
            cut--;
        }

        // Do not cut through a %XX escape either: the prefix stays decodable for people reading it.
        int lastPercent = full.LastIndexOf('%', cut - 1, Math.Min(2, cut));
        if (lastPercent >= 0 && lastPercent > cut - 3)
        {
            cut = lastPercent;
        }

        return full[..cut] + "~sha256-" + Hash(full, 64);
    }

    /// <summary>Lowercase hex SHA-256 of the UTF-8 text, cut to <paramref name="hexLength"/> characters.</summary>
    public static string Hash(string text, int hexLength = 32) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..hexLength];

    private const string ErasedPrefix = "~erased~";

    /// <summary>
    /// The RowKey of an erased address's kept suppression (written by the erasure, read by the store): <c>~erased~</c> +
    /// SHA-256 of the normalized address.
    /// </summary>
    public static string ErasedRowKey(string address) => ErasedPrefix + Hash(NormalizeAddress(address), 64);

    public static bool IsErasedRow(string rowKey) => rowKey.StartsWith(ErasedPrefix, StringComparison.Ordinal);
}
