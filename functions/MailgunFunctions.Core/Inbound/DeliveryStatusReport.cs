namespace MailgunFunctions.Inbound;

/// <summary>One recipient block of a delivery status notification (RFC 3464).</summary>
/// <param name="Address">Final-Recipient (or Original-Recipient) without its address type, lower-cased.</param>
public sealed record RecipientStatus(string Address, string Action, string Status, string Diagnostic)
{
    /// <summary>RFC 3464: "failed" with a class 5 status (RFC 3463) is a permanent failure; 4.x.x or "delayed" is not.</summary>
    public bool IsPermanentFailure =>
        Action.Equals("failed", StringComparison.OrdinalIgnoreCase) && Status.StartsWith("5.", StringComparison.Ordinal);
}

/// <summary>Reads the <c>message/delivery-status</c> part of a DSN: header-like blocks, one per recipient after the per-message block.</summary>
public static class DeliveryStatusReport
{
    public static IReadOnlyList<RecipientStatus> Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        var result = new List<RecipientStatus>();
        var block = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? last = null;
        foreach (string raw in text.Replace("\r\n", "\n").Split('\n').Append(""))
        {
            if (raw.Trim().Length == 0)
            {
                AddIfRecipient(block, result);
                block.Clear();
                last = null;
                continue;
            }

            if ((raw[0] == ' ' || raw[0] == '\t') && last is not null)
            {
                block[last] += " " + raw.Trim(); // RFC 5322 folding
                continue;
            }

            int colon = raw.IndexOf(':');
            if (colon > 0)
            {
                last = raw[..colon].Trim();
                block[last] = raw[(colon + 1)..].Trim();
            }
        }

        return result;
    }

    private static void AddIfRecipient(Dictionary<string, string> block, List<RecipientStatus> result)
    {
        string? recipient = block.GetValueOrDefault("Final-Recipient") ?? block.GetValueOrDefault("Original-Recipient");
        if (recipient is null)
        {
            return;
        }

        // "rfc822; jane@example.org": the address type comes first.
        int semicolon = recipient.IndexOf(';');
        string address = (semicolon >= 0 ? recipient[(semicolon + 1)..] : recipient).Trim().Trim('<', '>').ToLowerInvariant();
        if (!address.Contains('@'))
        {
            return;
        }

        string status = block.GetValueOrDefault("Status", "").Trim();
        int space = status.IndexOf(' ');
        result.Add(new RecipientStatus(
            address,
            block.GetValueOrDefault("Action", "").Trim(),
            space > 0 ? status[..space] : status,
            block.GetValueOrDefault("Diagnostic-Code", "").Trim()));
    }
}
