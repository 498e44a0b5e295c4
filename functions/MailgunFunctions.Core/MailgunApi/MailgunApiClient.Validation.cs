using Newtonsoft.Json.Linq;

namespace MailgunFunctions.MailgunApi;

/// <summary>
/// Mailgun's answer about one address (<c>GET /v4/address/validate</c>): <see cref="Result"/> is <c>deliverable</c>,
/// <c>undeliverable</c>, <c>do_not_send</c>, <c>catch_all</c> or <c>unknown</c>; <see cref="Risk"/> <c>low</c>,
/// <c>medium</c>, <c>high</c> or <c>unknown</c>; <see cref="Reasons"/> Mailgun's words for a result other than deliverable.
/// </summary>
public sealed record MailgunAddressValidation(string Result, string? Risk, IReadOnlyList<string> Reasons);

/// <summary>Mailgun's email validation API (a paid feature of the account; the tenant opts in).</summary>
public sealed partial class MailgunApiClient
{
    /// <summary>
    /// Asks Mailgun whether <paramref name="address"/> can receive mail (<c>GET /v4/address/validate?address=...</c> in the
    /// account's region). 429 and 5xx are retried like every call; what retrying cannot fix is a <see cref="MailgunApiException"/>.
    /// </summary>
    public async Task<MailgunAddressValidation> ValidateAddressAsync(MailgunAccount account, string address, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var target = Resolve(account);
        var json = await GetJsonAsync(new Uri(target.BaseUrl, $"v4/address/validate?address={Uri.EscapeDataString(address)}"), target, cancellationToken).ConfigureAwait(false);
        if ((string?)json["result"] is not { Length: > 0 } result)
        {
            throw new MailgunApiException("Mailgun's answer to GET /v4/address/validate has no 'result'.", domain: target.Name);
        }

        // "reason" is an array in v4 answers; a lone string has been seen in older ones.
        IReadOnlyList<string> reasons = json["reason"] switch
        {
            JArray array => array.Select(r => (string?)r).OfType<string>().ToArray(),
            JValue { Type: JTokenType.String } one => [(string)one!],
            _ => [],
        };
        return new MailgunAddressValidation(result.Trim().ToLowerInvariant(), (string?)json["risk"], reasons);
    }
}
