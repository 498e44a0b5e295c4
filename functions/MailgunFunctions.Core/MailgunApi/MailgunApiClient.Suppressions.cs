using System.Net;
using System.Runtime.CompilerServices;

namespace MailgunFunctions.MailgunApi;

/// <summary>Mailgun's suppression lists (bounces, unsubscribes, complaints, the allowlist): read page by page, one address looked up or removed.</summary>
public sealed partial class MailgunApiClient
{
    /// <summary>
    /// Every record of one suppression list, page by page (<c>limit</c> = <see cref="MailgunApiOptions.SuppressionPageSize"/>),
    /// holding one page at a time. Follows <c>paging.next</c> exactly as given and stops on an empty page or a
    /// <c>next</c> already read.
    /// </summary>
    public async IAsyncEnumerable<SuppressionRecord> StreamSuppressionsAsync(MailgunDomain domain, SuppressionList list, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var page in StreamSuppressionPagesAsync(domain, list, null, cancellationToken).ConfigureAwait(false))
        {
            foreach (var record in page.Records)
            {
                yield return record;
            }
        }
    }

    /// <summary>
    /// The pages of one suppression list, from the first or from <paramref name="resumeFrom"/> (a <see cref="SuppressionPage.Next"/>
    /// kept by an earlier run), so a long export can checkpoint between pages and continue later.
    /// </summary>
    public async IAsyncEnumerable<SuppressionPage> StreamSuppressionPagesAsync(MailgunDomain domain, SuppressionList list, Uri? resumeFrom, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var target = Resolve(domain);
        var first = resumeFrom is null
            ? new Uri(target.BaseUrl, $"v3/{target.Name}/{list.PathSegment()}?limit={_options.SuppressionPageSize}")
            : NextPage(resumeFrom.AbsoluteUri, target)!;
        await foreach (var (items, next) in StreamPagesAsync(target, list.PathSegment(), first, cancellationToken).ConfigureAwait(false))
        {
            yield return new SuppressionPage(items.Select(i => SuppressionRecord.FromJson(list, i)).ToList(), next);
        }
    }

    /// <summary>
    /// Removes one address from a list. Idempotent: an address that is not (or no longer) on the list is a success.
    /// Returns true when Mailgun removed it, false when it was already gone.
    /// </summary>
    public async Task<bool> DeleteSuppressionAsync(MailgunDomain domain, SuppressionList list, string address, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var target = Resolve(domain);
        var url = AddressUrl(target, list, address);
        using var response = await SendAsync(HttpMethod.Delete, url, target, allowNotFound: true, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await ThrowOnUnknownDomainAsync(response, target, cancellationToken).ConfigureAwait(false);
            MailgunApiLog.Deleted(_logger, target.Name, list.PathSegment(), "already gone");
            return false;
        }

        MailgunApiLog.Deleted(_logger, target.Name, list.PathSegment(), "removed");
        return true;
    }

    /// <summary>
    /// Whether one address is on a list (<c>GET /v3/{domain}/{list}/{address}</c>: 200 with the record, 404 "Address not
    /// found"). Reads only: what the re-enable flow asks before it decides anything.
    /// </summary>
    public async Task<bool> IsSuppressedAsync(MailgunDomain domain, SuppressionList list, string address, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var target = Resolve(domain);
        using var response = await SendAsync(HttpMethod.Get, AddressUrl(target, list, address), target, allowNotFound: true, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            await ThrowOnUnknownDomainAsync(response, target, cancellationToken).ConfigureAwait(false);
            return false;
        }

        return true;
    }

    // Addresses may hold '+', '/', '#', '?' and '%': each must reach Mailgun as one escaped path segment.
    private static Uri AddressUrl(Target target, SuppressionList list, string address) =>
        new(target.BaseUrl, $"v3/{target.Name}/{list.PathSegment()}/{Uri.EscapeDataString(address)}");

    /// <summary>A 404 of a single-address call: "Address not found in bounces table" is an answer; "Domain not found" means a wrong setting.</summary>
    private static async Task ThrowOnUnknownDomainAsync(HttpResponseMessage response, Target target, CancellationToken cancellationToken)
    {
        string body = await ExcerptAsync(response, cancellationToken).ConfigureAwait(false);
        if (body.Contains("domain", StringComparison.OrdinalIgnoreCase) && !body.Contains("address", StringComparison.OrdinalIgnoreCase))
        {
            throw new MailgunApiException(
                $"Mailgun does not know domain '{target.Name}' in the {target.Region} region ({UrlMask.Mask(target.BaseUrl)}): check {target.RegionHint}. Mailgun said: {body}",
                response.StatusCode, target.Name);
        }
    }

    /// <summary>
    /// Puts one address on the domain's unsubscribe list for all mail (<c>POST /v3/{domain}/unsubscribes</c>, form
    /// <c>address</c>, <c>tag=*</c>). Idempotent at Mailgun: an address already there is answered 200 again.
    /// </summary>
    public async Task AddUnsubscribeAsync(MailgunDomain domain, string address, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var target = Resolve(domain);
        using var form = new FormUrlEncodedContent([new("address", address), new("tag", "*")]);
        using var response = await SendAsync(HttpMethod.Post, new Uri(target.BaseUrl, $"v3/{target.Name}/{SuppressionList.Unsubscribes.PathSegment()}"), target, allowNotFound: false, cancellationToken, form).ConfigureAwait(false);
    }
}
