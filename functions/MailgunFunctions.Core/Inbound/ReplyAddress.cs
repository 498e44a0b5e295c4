using MimeKit;

namespace MailgunFunctions.Inbound;

/// <summary>Small rules about addresses and message ids in replies, kept in one place.</summary>
public static class ReplyAddress
{
    /// <summary>The bare address of <paramref name="value"/> ("Jane &lt;jane@x.org&gt;" gives "jane@x.org"), lower-cased; null when there is none.</summary>
    public static string? Address(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (InternetAddressList.TryParse(value, out var list) && list.Mailboxes.FirstOrDefault() is { } mailbox && mailbox.Address.Contains('@'))
        {
            return mailbox.Address.Trim().ToLowerInvariant();
        }

        string trimmed = value.Trim().Trim('<', '>');
        return trimmed.Contains('@') && !trimmed.Contains(' ') ? trimmed.ToLowerInvariant() : null;
    }

    /// <summary>The domain of an address, lower-cased: for the route recipient, the tenant (receiving domain).</summary>
    public static string? DomainOf(string? value)
    {
        string? address = Address(value);
        int at = address?.LastIndexOf('@') ?? -1;
        return at > 0 && at < address!.Length - 1 ? address[(at + 1)..] : null;
    }

    /// <summary>Mailgun records message ids without angle brackets; mail headers carry them with.</summary>
    public static string? TrimAngles(string? messageId) =>
        string.IsNullOrWhiteSpace(messageId) ? null : messageId.Trim().Trim('<', '>').Trim() is { Length: > 0 } id ? id : null;

    /// <summary>All message ids of a References / In-Reply-To header, in order, without angle brackets.</summary>
    public static IReadOnlyList<string> MessageIds(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return [];
        }

        var ids = new List<string>();
        foreach (string part in header.Split([' ', '\t', '\r', '\n', ','], StringSplitOptions.RemoveEmptyEntries))
        {
            if (TrimAngles(part) is { } id && id.Contains('@'))
            {
                ids.Add(id);
            }
        }

        return ids;
    }
}
