using MailgunFunctions.MailgunApi;
using MailgunFunctions.Tenants;

namespace MailgunFunctions.Dnd;

/// <summary>Why a re-enable was refused before anything changed (or, for <see cref="LockedMeanwhile"/>, before the DND was cleared).</summary>
public enum ReenableRefusal
{
    None,
    /// <summary>No DND entry for the address in the tenant.</summary>
    NotFound,
    /// <summary>A complaint locks the address and no audited override was asked for.</summary>
    Locked,
    /// <summary>Not a bare, valid address.</summary>
    AddressInvalid,
    /// <summary>The address's domain accepts no mail (NXDOMAIN, null MX, no MX/A/AAAA).</summary>
    CannotReceiveMail,
    /// <summary>A complaint arrived between the check and the write: Mailgun's lists were cleared, the DND was not.</summary>
    LockedMeanwhile,
}

/// <summary>The result of the re-enable flow: a refusal (with the reason for people), or what was done.</summary>
public sealed record ReenableOutcome(ReenableRefusal Refusal, string? Problem, DndStatus Status, DndApplyResult? Result, IReadOnlyDictionary<string, bool> MailgunRemoved);

/// <summary>
/// The documented re-enable flow, one implementation for the CLI (<c>mailgun-ops dnd enable</c>) and the platform's API
/// (<c>POST /api/dnd/{tenant}/{address}/enable</c>). Checks first, so that a refusal changes nothing anywhere: the entry
/// must exist; a locked (complaint) entry needs the audited admin override; the address must be able to receive mail
/// (<see cref="MailAddressCheck"/>). Then the address is deleted from Mailgun's bounces, unsubscribes and complaints of
/// every domain of the tenant (already absent is fine), and only then is the DND cleared (<see cref="DndStore.ReenableAsync"/>,
/// recorded with the actor and note). The platform's procedure reads "delete from Mailgun's suppression list, validate,
/// then clear the DND": validating first keeps Mailgun's lists as they were for an address we refuse, and the DND is still
/// cleared last, after both.
/// </summary>
public sealed class DndReenableFlow(DndStore store, MailgunApiClient mailgun, MailAddressCheck addresses)
{
    private static readonly SuppressionList[] Lists = [SuppressionList.Bounces, SuppressionList.Unsubscribes, SuppressionList.Complaints];

    /// <param name="actor">Who, with the channel: <c>cli:&lt;name&gt;</c> or <c>api:&lt;name&gt;</c> (notices name the channel from it).</param>
    /// <param name="note">Why (the history and the notice keep it); for an override, whose consent.</param>
    /// <remarks>Throws <see cref="MailgunApiException"/> (Mailgun failed or no API key), <see cref="AddressCheckUnavailableException"/> (DNS), and storage errors.</remarks>
    public async Task<ReenableOutcome> EnableAsync(Tenant tenant, string address, string actor, string note, bool overrideComplaint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentException.ThrowIfNullOrWhiteSpace(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(note);
        string normalized = DndKeys.NormalizeAddress(address);
        var removed = new Dictionary<string, bool>(StringComparer.Ordinal);
        var (entry, status) = await store.GetStatusAsync(tenant.Id, normalized, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            return new ReenableOutcome(ReenableRefusal.NotFound, $"no DND entry for '{normalized}' in tenant '{tenant.Id}'", status, null, removed);
        }

        if (status.State == DndState.Locked && !overrideComplaint)
        {
            return new ReenableOutcome(ReenableRefusal.Locked,
                $"'{normalized}' is locked: the contact complained (marked a message as spam) on {status.Since:yyyy-MM-dd HH:mm} UTC. Sending again needs the contact's renewed consent; "
                + "if you have it, ask for the audited override, naming the operator and a note that records the consent.", status, null, removed);
        }

        if (MailAddressCheck.SyntaxProblem(address) is { } syntax)
        {
            return new ReenableOutcome(ReenableRefusal.AddressInvalid, syntax, status, null, removed);
        }

        if (await addresses.ProblemWithAddressAsync(address, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            return new ReenableOutcome(ReenableRefusal.CannotReceiveMail, problem, status, null, removed);
        }

        // The DND is the tenant's, for every one of its domains: so are the suppressions to clear.
        foreach (var domain in tenant.Domains)
        {
            foreach (var list in Lists)
            {
                string name = tenant.Domains.Count == 1 ? list.PathSegment() : $"{domain.Name}:{list.PathSegment()}";
                removed[name] = await mailgun.DeleteSuppressionAsync(tenant.MailgunDomain(domain), list, normalized, cancellationToken).ConfigureAwait(false);
            }
        }

        var result = await store.ReenableAsync(tenant.Id, normalized, actor, note, overrideComplaint, cancellationToken).ConfigureAwait(false);
        return result.Outcome == DndApplyOutcome.Refused
            ? new ReenableOutcome(ReenableRefusal.LockedMeanwhile, $"'{normalized}' became locked (a complaint) while re-enabling; nothing was cleared in the store", result.Current, result, removed)
            : new ReenableOutcome(ReenableRefusal.None, null, result.Current, result, removed);
    }
}
