using System.Net;
using System.Net.Mail;
using DnsClient;
using DnsClient.Protocol;

namespace MailgunFunctions.Dnd;

/// <summary>DNS could not answer (a server error or timeout, not "no such domain"): the check cannot decide now.</summary>
public sealed class AddressCheckUnavailableException(string message) : Exception(message);

/// <summary>
/// The one rule for "can this address receive mail?", used before a re-enable by the CLI (<c>dnd enable</c>) and the
/// platform's API (<c>POST /api/dnd/{tenant}/{address}/enable</c>): a bare address (no display name) with a dotted domain
/// whose DNS has an MX record, or failing that an A/AAAA record (RFC 5321 section 5.1 "implicit MX"); a null MX ("."
/// , RFC 7505) says the domain accepts no mail. Every check asks DNS afresh: an operator who just fixed a record wants the
/// new answer.
/// </summary>
public sealed class MailAddressCheck
{
    /// <summary>RFC 5321's limit on a forward path, and what DndKeys can key readably.</summary>
    public const int MaxAddressLength = 254;

    private readonly LookupClient _client;

    /// <param name="server">The resolver to ask (ip:port), or null for the system's.</param>
    public MailAddressCheck(IPEndPoint? server = null)
    {
        _client = LookupClientFor(server);
    }

    /// <summary>
    /// The one DNS client setup of the product (this check and the CLI's record lookups): no cache, because an operator who
    /// just fixed a record wants the new answer; a short timeout and one retry; errors as answers, not exceptions.
    /// </summary>
    public static LookupClient LookupClientFor(IPEndPoint? server)
    {
        var options = server is null ? new LookupClientOptions() : new LookupClientOptions(server);
        options.UseCache = false;
        options.Timeout = TimeSpan.FromSeconds(3);
        options.Retries = 1;
        options.ThrowDnsErrors = false;
        options.UseTcpFallback = false;
        options.ContinueOnDnsError = false;
        return new LookupClient(options);
    }

    /// <summary>Why the text is not a bare, valid address (null when it is): the syntax half of the rule, no DNS.</summary>
    public static string? SyntaxProblem(string? address)
    {
        string raw = address ?? "";
        string normalized = DndKeys.NormalizeAddress(raw);
        return normalized.Length > MaxAddressLength || !MailAddress.TryCreate(normalized, out var parsed) || parsed.Address != normalized
            || parsed.User.Length == 0 || !parsed.Host.Contains('.', StringComparison.Ordinal) || !string.Equals(normalized, raw.Trim().ToLowerInvariant(), StringComparison.Ordinal)
            ? $"'{Printable(raw)}' is not a valid email address"
            : null;
    }

    /// <summary>
    /// Why an address cannot receive mail, or null when it can. Throws <see cref="AddressCheckUnavailableException"/> when
    /// DNS cannot answer (the caller reports it; nothing may change on a guess).
    /// </summary>
    public async Task<string?> ProblemWithAddressAsync(string address, CancellationToken cancellationToken)
    {
        if (SyntaxProblem(address) is { } syntax)
        {
            return syntax;
        }

        string domain = new MailAddress(DndKeys.NormalizeAddress(address)).Host;
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

    private static void ThrowOnServerError(IDnsQueryResponse response, string name)
    {
        if (response.HasError && response.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
        {
            throw new AddressCheckUnavailableException($"DNS could not answer for '{name}': {response.ErrorMessage}");
        }
    }

    private static string Printable(string s) => s.Length > 80 ? s[..80] + "…" : s;
}
