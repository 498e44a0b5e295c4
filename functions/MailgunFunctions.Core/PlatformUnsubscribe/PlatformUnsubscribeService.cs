using System.Security.Cryptography;
using System.Text;
using MailgunFunctions.Dnd;
using MailgunFunctions.Tenants;

namespace MailgunFunctions.PlatformUnsubscribe;

/// <summary>What a click on the platform's page did.</summary>
public enum LinkOutcome
{
    /// <summary>The address is now in DND because of this link.</summary>
    Unsubscribed,
    /// <summary>It already was (by this link, Mailgun's link, a bounce...): nothing changed, nothing recorded twice.</summary>
    AlreadyUnsubscribed,
    /// <summary>The undo cleared the unsubscribe: sending may resume.</summary>
    Resubscribed,
    /// <summary>The undo found another reason (bounce, complaint, Mailgun's own unsubscribe) and changed nothing.</summary>
    StillBlocked,
}

/// <summary>
/// The DND side of the platform's unsubscribe link, through the same store, policy and history as Mailgun's
/// events (source "platform-link").
/// </summary>
public sealed class PlatformUnsubscribeService(DndStore store, TenantDirectory tenants, TimeProvider time)
{
    /// <summary>
    /// The tenant a link stands for. Links made before tenants existed carry the sending domain instead: they keep working
    /// for the tenant that registered that domain (or the single-account tenant), where that domain's DND now lives.
    /// </summary>
    public async Task<string> TenantOfAsync(UnsubscribeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (TenantId.IsValid(request.Tenant) && !request.Tenant.Contains('.', StringComparison.Ordinal))
        {
            return request.Tenant;
        }

        return (await tenants.FindByDomainAsync(request.Tenant, cancellationToken).ConfigureAwait(false))?.Id ?? tenants.Implicit?.Id ?? request.Tenant;
    }

    /// <summary>
    /// The brand the page names: the tenant's brand name (else its display name, else its first domain) and logo from the
    /// registry. A link whose tenant the registry does not know (yet, or any more) names what the link carries.
    /// </summary>
    public async Task<UnsubscribeBrand> BrandAsync(UnsubscribeRequest request, CancellationToken cancellationToken)
    {
        string tenant = await TenantOfAsync(request, cancellationToken).ConfigureAwait(false);
        return (await tenants.FindAsync(tenant, cancellationToken).ConfigureAwait(false))?.Tenant is { } found
            ? new UnsubscribeBrand(found.Brand, found.BrandLogoUrl)
            : new UnsubscribeBrand(request.Tenant);
    }

    /// <summary>
    /// Whether the address is unsubscribed already, by the same rule a click uses to change nothing: the page then says
    /// so (with the undo) instead of asking again.
    /// </summary>
    public async Task<bool> IsUnsubscribedAsync(UnsubscribeRequest request, CancellationToken cancellationToken)
    {
        string tenant = await TenantOfAsync(request, cancellationToken).ConfigureAwait(false);
        var (_, status) = await store.GetStatusAsync(tenant, request.Address, cancellationToken).ConfigureAwait(false);
        return CoversUnsubscribe(status.State);
    }

    /// <summary>A permanent or locked DND already does all an unsubscribe would.</summary>
    private static bool CoversUnsubscribe(DndState state) => state >= DndState.Permanent;

    /// <summary>
    /// Unsubscribes at once. Idempotent in effect: when the address is already in permanent or locked DND, a click
    /// (or a mailbox provider's repeated one-click POST) changes nothing and writes no history.
    /// </summary>
    public async Task<LinkOutcome> UnsubscribeAsync(UnsubscribeRequest request, string token, CancellationToken cancellationToken)
    {
        string tenant = await TenantOfAsync(request, cancellationToken).ConfigureAwait(false);
        var (_, status) = await store.GetStatusAsync(tenant, request.Address, cancellationToken).ConfigureAwait(false);
        if (CoversUnsubscribe(status.State))
        {
            return LinkOutcome.AlreadyUnsubscribed;
        }

        await store.ApplyAsync(tenant, request.Address, DndChange.PlatformUnsubscribe(time.GetUtcNow(), Reference(token), request.ContactId), cancellationToken)
            .ConfigureAwait(false);
        return LinkOutcome.Unsubscribed;
    }

    /// <summary>
    /// Clears the unsubscribe this link set, and only that: when anything else put the address in DND since its last
    /// re-enable (a bounce, a complaint, Mailgun's own unsubscribe), nothing changes. The check reads the history, so the
    /// write is conditional on the entry being the one read (its ETag): a change that lands in between (every change with
    /// a DND meaning moves the ETag, even one the entry already covers) makes the write fail, and the check runs again on
    /// fresh data. Throws <see cref="DndWriteConflictException"/> (transient: the page says "try again") when the entry
    /// keeps changing.
    /// </summary>
    public async Task<LinkOutcome> UndoAsync(UnsubscribeRequest request, string token, CancellationToken cancellationToken)
    {
        string tenant = await TenantOfAsync(request, cancellationToken).ConfigureAwait(false);
        for (int attempt = 1; attempt <= MaxUndoAttempts; attempt++)
        {
            var read = await store.ReadAsync(tenant, request.Address, cancellationToken).ConfigureAwait(false);
            if (read.Entry is null || read.Status.State == DndState.None)
            {
                return LinkOutcome.Resubscribed;
            }

            if (read.Status.State == DndState.Locked || await BlockedByAnotherCauseAsync(tenant, request, read.Entry, cancellationToken).ConfigureAwait(false))
            {
                return LinkOutcome.StillBlocked;
            }

            var change = DndChange.PlatformResubscribe(time.GetUtcNow(), Reference(token), request.ContactId);
            if (await store.ApplyIfUnchangedAsync(tenant, request.Address, change, read, cancellationToken).ConfigureAwait(false) is not null)
            {
                return LinkOutcome.Resubscribed;
            }
        }

        throw new DndWriteConflictException($"the DND entry changed during each of {MaxUndoAttempts} undo attempts");
    }

    /// <summary>A person clicking undo: a few attempts ride out a burst of events; more means something is wrong.</summary>
    private const int MaxUndoAttempts = 5;

    /// <summary>Whether a change other than this link's put the address in DND since its last re-enable.</summary>
    private async Task<bool> BlockedByAnotherCauseAsync(string tenant, UnsubscribeRequest request, DndEntry entry, CancellationToken cancellationToken)
    {
        DateTimeOffset since = entry.LastReenable?.At ?? DateTimeOffset.MinValue;
        await foreach (var record in store.HistoryAsync(tenant, request.Address, cancellationToken).ConfigureAwait(false))
        {
            if (record.At <= since)
            {
                break;
            }

            bool blocks = record.Kind is DndChangeKind.Complaint or DndChangeKind.PermanentCause or DndChangeKind.SoftBounce;
            if (blocks && record.Source != DndChangeSource.PlatformLink)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A short, non-reversible reference to the link for the history (the token itself stays out of storage).</summary>
    private static string Reference(string token) => "link " + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)))[..16];
}
