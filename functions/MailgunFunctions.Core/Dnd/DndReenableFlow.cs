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
    /// <summary>The contact unsubscribed and no override (naming the contact's renewed consent) was asked for.</summary>
    Unsubscribed,
    /// <summary>Not a refusal: the address is not in DND, so there is nothing to re-enable; nothing changed, Mailgun was not called.</summary>
    AlreadyClear,
}

/// <summary>The consents an operator states with a re-enable: each lifts one block that only the contact can lift.</summary>
[Flags]
public enum ReenableOverrides
{
    None = 0,
    /// <summary>The audited admin override of a complaint lock.</summary>
    Complaint = 1,
    /// <summary>The contact asked to get emails again after unsubscribing.</summary>
    Unsubscribe = 2,
}

/// <summary>The result of the re-enable flow: a refusal (with the reason for people), or what was done.</summary>
public sealed record ReenableOutcome(ReenableRefusal Refusal, string? Problem, DndStatus Status, DndApplyResult? Result, IReadOnlyDictionary<string, bool> MailgunRemoved);

/// <summary>
/// The documented re-enable flow, one implementation for the CLI (<c>mailgun-ops dnd enable</c>) and the platform's API
/// (<c>POST /api/dnd/{tenant}/{address}/enable</c>). Checks first, so that a refusal changes nothing anywhere: the entry
/// must exist and be in DND (an address already clear is left alone, without calling Mailgun); a locked (complaint) entry
/// needs the audited admin override, and an entry the contact unsubscribed needs the unsubscribe override (consent is
/// the contact's to give, not the operator's); the address must be able to receive mail
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
    /// <param name="overrides">The blocks the operator lifts with the contact's consent (complaint, unsubscribe).</param>
    /// <remarks>Throws <see cref="MailgunApiException"/> (Mailgun failed or no API key), <see cref="AddressCheckUnavailableException"/> (DNS), and storage errors.</remarks>
    public async Task<ReenableOutcome> EnableAsync(Tenant tenant, string address, string actor, string note, ReenableOverrides overrides, CancellationToken cancellationToken)
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

        bool overrideComplaint = overrides.HasFlag(ReenableOverrides.Complaint);
        if (status.State == DndState.None)
        {
            return new ReenableOutcome(ReenableRefusal.AlreadyClear, $"'{normalized}' is not in DND in tenant '{tenant.Id}': nothing to re-enable, nothing changed", status, null, removed);
        }

        if (status.State == DndState.Locked && !overrideComplaint)
        {
            return new ReenableOutcome(ReenableRefusal.Locked,
                $"'{normalized}' is locked: the contact complained (marked a message as spam) on {status.Since:yyyy-MM-dd HH:mm} UTC. Sending again needs the contact's renewed consent; "
                + "if you have it, ask for the audited override, naming the operator and a note that records the consent.", status, null, removed);
        }

        bool unsubscribed = DndPolicy.IsUnsubscribed(entry, status);
        if (unsubscribed && !overrides.HasFlag(ReenableOverrides.Unsubscribe))
        {
            return new ReenableOutcome(ReenableRefusal.Unsubscribed,
                $"'{normalized}' unsubscribed on {status.Since:yyyy-MM-dd HH:mm} UTC. Sending again needs the contact's renewed consent; "
                + "if you have it, ask for the unsubscribe override with a note that records the consent (when and how the contact asked).", status, null, removed);
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

        // The history says an unsubscribe was lifted on the operator's word of consent, beside the note that records it.
        string recorded = unsubscribed ? "unsubscribe override: " + note : note;
        var result = await store.ReenableAsync(tenant.Id, normalized, actor, recorded, overrideComplaint, cancellationToken).ConfigureAwait(false);
        return result.Outcome == DndApplyOutcome.Refused
            ? new ReenableOutcome(ReenableRefusal.LockedMeanwhile, $"'{normalized}' became locked (a complaint) while re-enabling; nothing was cleared in the store", result.Current, result, removed)
            : new ReenableOutcome(ReenableRefusal.None, null, result.Current, result, removed);
    }
}
