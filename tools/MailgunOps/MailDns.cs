using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace MailgunOps;

/// <summary>Answers from DNS the CLI needs: what records a name holds (whether an address can receive mail is the Core's MailAddressCheck).</summary>
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
}
