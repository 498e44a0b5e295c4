using Newtonsoft.Json.Linq;

namespace MailgunFunctions.MailgunApi;

/// <summary>A Mailgun route: lower <see cref="Priority"/> runs first; without a <c>stop()</c> action every matching route runs.</summary>
public sealed record MailgunRoute(string? Id, int Priority, string Description, string Expression, IReadOnlyList<string> Actions)
{
    internal static MailgunRoute FromJson(JObject item) => new(
        (string?)item["id"],
        (int?)item["priority"] ?? 0,
        (string?)item["description"] ?? "",
        (string?)item["expression"] ?? "",
        (item["actions"] as JArray ?? []).Select(a => (string?)a).OfType<string>().ToArray());

    /// <summary>The URL of a <c>forward("...")</c> action, or null for any other action.</summary>
    public static Uri? ForwardTarget(string action) =>
        action is not null && action.StartsWith("forward(\"", StringComparison.Ordinal) && action.EndsWith("\")", StringComparison.Ordinal)
        && Uri.TryCreate(action[9..^2], UriKind.Absolute, out var url) ? url : null;

    /// <summary>Same priority, expression and actions (in order): what decides whether an update is needed.</summary>
    public bool SameRuleAs(MailgunRoute other) =>
        other is not null && Priority == other.Priority && Expression == other.Expression && Actions.SequenceEqual(other.Actions);
}

/// <summary>One DNS record Mailgun expects for a domain, as <c>GET /v4/domains/{domain}</c> lists it.</summary>
/// <param name="Purpose">"sending" (SPF, DKIM, tracking CNAME) or "receiving" (MX).</param>
/// <param name="Valid">Mailgun's own verdict ("valid", "unknown"...), from its last check.</param>
public sealed record MailgunDnsRecord(string Purpose, string RecordType, string Name, string Value, string? Priority, string? Valid);

/// <summary>Mailgun's view of a domain: <see cref="State"/> is <c>active</c> once its DNS records were verified, else <c>unverified</c> (or <c>disabled</c>).</summary>
public sealed record MailgunDomainStatus(string State, IReadOnlyList<MailgunDnsRecord> Records);

/// <summary>Which of Mailgun's tracking a domain has on: the unsubscribe link Mailgun adds, click and open tracking.</summary>
public sealed record MailgunTracking(bool Unsubscribe, bool Click, bool Open);
