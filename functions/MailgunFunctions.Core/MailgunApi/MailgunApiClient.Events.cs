using System.Runtime.CompilerServices;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.MailgunApi;

/// <summary>Mailgun's Events API: the events of a domain from a point in time on.</summary>
public sealed partial class MailgunApiClient
{
    /// <summary>The Events API filter used by default: the events that change a contact's DND state.</summary>
    public const string DefaultEventFilter = "failed OR complained OR unsubscribed";

    /// <summary>
    /// Events of one domain from <paramref name="begin"/> on, oldest first, as Mailgun's raw <c>event-data</c> objects
    /// (parse them with the event parser). Mailgun keeps events 3 to 30 days depending on the plan.
    /// </summary>
    public async IAsyncEnumerable<JObject> StreamEventsAsync(MailgunDomain domain, DateTimeOffset begin, string eventFilter = DefaultEventFilter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var target = Resolve(domain);
        string query = $"begin={begin.ToUnixTimeSeconds()}&ascending=yes&limit={_options.EventPageSize}&event={Uri.EscapeDataString(eventFilter)}";
        var first = new Uri(target.BaseUrl, $"v3/{target.Name}/events?{query}");
        await foreach (var (items, _) in StreamPagesAsync(target, "events", first, cancellationToken).ConfigureAwait(false))
        {
            foreach (var item in items)
            {
                yield return item;
            }
        }
    }
}
