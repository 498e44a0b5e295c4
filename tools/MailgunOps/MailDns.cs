using System.Net;
using System.Net.Mail;
using DnsClient;
using DnsClient.Protocol;
using MailgunFunctions.Dnd;

namespace MailgunOps;

/// <summary>Answers from DNS the CLI needs: can an address receive mail, and what records a name holds.</summary>
public sealed class MailDns
{
    private readonly LookupClient _client;

    public MailDns(IPEndPoint? server)
    {
        var options = server is null ? new LookupClientOptions() : new LookupClientOptions(server);
        // Every run asks afresh: an operator who just fixed a record wants the new answer, not a cached one.
        options.UseCache = false;
        options.Timeout = TimeSpan.FromSeconds(3);
        options.Retries = 1;
        options.ThrowDnsErrors = false;
        options.UseTcpFallback = false;
        options.ContinueOnDnsError = false;
        _client = new LookupClient(options);
    }

    /// <summary>
    /// Why an address cannot receive mail, or null when it can: it must be a bare address (no display name) with a
    /// dotted domain, and the domain must have an MX record, or failing that an A/AAAA record (RFC 5321 section 5.1
    /// "implicit MX"). A null MX ("." , RFC 7505) says the domain accepts no mail.
    /// </summary>
    public async Task<string?> ProblemWithAddressAsync(string address, CancellationToken cancellationToken)
    {
        string normalized = DndKeys.NormalizeAddress(address);
        if (normalized.Length > 254 || !MailAddress.TryCreate(normalized, out var parsed) || parsed.Address != normalized
            || parsed.User.Length == 0 || !parsed.Host.Contains('.', StringComparison.Ordinal) || normalized != address.Trim().ToLowerInvariant())
        {
            return $"'{address}' is not a valid email address";
        }

        string domain = parsed.Host;
        var mx = await _client.QueryAsync(domain, QueryType.MX, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (mx.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
        {
            return $"the domain '{domain}' does not exist (NXDOMAIN)";
        }

        ThrowOnServerError(mx, domain);
        var exchanges = mx.Answers.MxRecords().ToList();
        if (exchanges.Count > 0)
        {
            return exchanges.All(r => r.Exchange.Value.Trim('.').Length == 0) ? $"the domain '{domain}' has a null MX: it accepts no mail" : null;
        }

        foreach (var type in new[] { QueryType.A, QueryType.AAAA })
        {
            var answer = await _client.QueryAsync(domain, type, cancellationToken: cancellationToken).ConfigureAwait(false);
            ThrowOnServerError(answer, domain);
            if (answer.Answers.AddressRecords().Any())
            {
                return null;
            }
        }

        return $"the domain '{domain}' has no MX, A or AAAA record";
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
}
