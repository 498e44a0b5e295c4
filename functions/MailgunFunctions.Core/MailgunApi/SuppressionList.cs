namespace MailgunFunctions.MailgunApi;

/// <summary>Mailgun's per-domain suppression lists.</summary>
public enum SuppressionList
{
    /// <summary>Addresses that hard-bounced: <c>/v3/{domain}/bounces</c>.</summary>
    Bounces,

    /// <summary>Addresses that complained (feedback loops): <c>/v3/{domain}/complaints</c>.</summary>
    Complaints,

    /// <summary>Addresses that unsubscribed (all mail or some tags): <c>/v3/{domain}/unsubscribes</c>.</summary>
    Unsubscribes,

    /// <summary>Addresses and domains never added to the bounce list: <c>/v3/{domain}/whitelists</c> (Mailgun's old name for the allowlist).</summary>
    Allowlist,
}

public static class SuppressionLists
{
    /// <summary>Every list, in the order the export writes them.</summary>
    public static IReadOnlyList<SuppressionList> All { get; } = [SuppressionList.Bounces, SuppressionList.Complaints, SuppressionList.Unsubscribes, SuppressionList.Allowlist];

    /// <summary>The list's segment in Mailgun's URLs, also used for export file names so operators can match them.</summary>
    public static string PathSegment(this SuppressionList list) => list switch
    {
        SuppressionList.Bounces => "bounces",
        SuppressionList.Complaints => "complaints",
        SuppressionList.Unsubscribes => "unsubscribes",
        SuppressionList.Allowlist => "whitelists",
        _ => throw new ArgumentOutOfRangeException(nameof(list), list, null),
    };
}
