using System.Net;
using DnsClient;
using DnsClient.Protocol;
using MailgunFunctions.MailgunApi;

namespace MailgunOps;

/// <summary>
/// Answers from DNS the CLI needs: what records a name holds, and whether a record Mailgun expects is there (<c>setup
/// check-dns</c> and <c>setup check</c>; whether an address can receive mail is the Core's MailAddressCheck).
/// </summary>
public sealed class MailDns
{
    private readonly LookupClient _client;

    public MailDns(IPEndPoint? server)
    {
        _client = MailgunFunctions.Dnd.MailAddressCheck.LookupClientFor(server);
    }

    /// <summary>The answers of one type at a name (empty for NXDOMAIN or no data).</summary>
    public async Task<IReadOnlyList<DnsResourceRecord>> RecordsAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        var answer = await _client.QueryAsync(name, type, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (answer.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
        {
            ThrowOnServerError(answer, name);
        }

        return answer.Answers.ToList();
    }

    private static void ThrowOnServerError(IDnsQueryResponse response, string name)
    {
        if (response.HasError && response.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
        {
            throw new OpsException(ExitCodes.Remote, $"DNS could not answer for '{name}': {response.ErrorMessage}");
        }
    }

    /// <summary>
    /// ok, missing or wrong. SPF passes when the name's one <c>v=spf1</c> record includes every <c>include:</c> Mailgun
    /// asks for (other includes are the owner's business); DKIM (at the selector Mailgun names) and other TXT must match
    /// exactly (DNS splits long TXT values into strings: they are joined); CNAME compares host names without the trailing
    /// dot; MX needs the host with the priority Mailgun gives (a host at another priority is wrong: mail would prefer
    /// another exchange). <c>Found</c> is what DNS holds, MX as <c>priority host</c>.
    /// </summary>
    public async Task<(string Status, List<string> Found)> CheckAsync(MailgunDnsRecord record, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(record);
        switch (record.RecordType.ToUpperInvariant())
        {
            case "TXT":
            {
                var found = (await RecordsAsync(record.Name, QueryType.TXT, token).ConfigureAwait(false)).OfType<TxtRecord>().Select(t => string.Concat(t.Text)).ToList();
                if (found.Count == 0)
                {
                    return ("missing", found);
                }

                if (record.Value.StartsWith("v=spf1", StringComparison.OrdinalIgnoreCase))
                {
                    var spf = found.Where(f => f.StartsWith("v=spf1", StringComparison.OrdinalIgnoreCase)).ToList();
                    var includes = record.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(t => t.StartsWith("include:", StringComparison.OrdinalIgnoreCase));
                    return (spf.Count == 1 && includes.All(i => spf[0].Split(' ').Contains(i, StringComparer.OrdinalIgnoreCase)) ? "ok" : spf.Count == 0 ? "missing" : "wrong", found);
                }

                return (found.Any(f => f == record.Value) ? "ok" : "wrong", found);
            }

            case "CNAME":
            {
                var found = (await RecordsAsync(record.Name, QueryType.CNAME, token).ConfigureAwait(false)).OfType<CNameRecord>().Select(c => Host(c.CanonicalName.Value)).ToList();
                return (found.Count == 0 ? "missing" : found.Contains(Host(record.Value)) ? "ok" : "wrong", found);
            }

            case "MX":
            {
                var mx = (await RecordsAsync(record.Name, QueryType.MX, token).ConfigureAwait(false)).OfType<MxRecord>().ToList();
                var found = mx.Select(m => $"{m.Preference} {Host(m.Exchange.Value)}").ToList();
                var host = mx.Where(m => Host(m.Exchange.Value) == Host(record.Value)).ToList();
                bool priorityOk = !int.TryParse(record.Priority, System.Globalization.CultureInfo.InvariantCulture, out int wanted) || host.Any(m => m.Preference == wanted);
                return (mx.Count == 0 ? "missing" : host.Count > 0 && priorityOk ? "ok" : "wrong", found);
            }

            default:
                return ("unchecked", []);
        }
    }

    private static string Host(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();
}
