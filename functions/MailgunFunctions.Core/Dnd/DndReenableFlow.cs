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

/// <summary>
/// Which check decided whether the address can receive mail, and what it said. <see cref="Validator"/> is <c>dns</c> (the
/// syntax and MX/A rule of <see cref="MailAddressCheck"/>), <c>mailgun</c> (Mailgun's email validation API, the tenant's
/// opt-in) or <c>mailgun+dns</c> (Mailgun answered <c>unknown</c>, so the DNS rule decided). <see cref="Result"/> is
/// Mailgun's result (<c>deliverable</c>, <c>undeliverable</c>, <c>do_not_send</c>, <c>catch_all</c>, <c>unknown</c>) or,
/// for <c>dns</c>, <c>ok</c> / <c>refused</c>; <see cref="Risk"/> and <see cref="Reasons"/> are Mailgun's.
/// </summary>
public sealed record ReenableValidation(string Validator, string Result, string? Risk, IReadOnlyList<string> Reasons)
{
    /// <summary>Mailgun's result (and reasons) in words, for a refusal's text.</summary>
    public string Describe() => Validator != ReenableValidators.Mailgun ? "the DNS check"
        : $"Mailgun's email validation (result '{Result}'{(Risk is { Length: > 0 } ? $", risk '{Risk}'" : "")}{(Reasons.Count > 0 ? ", reasons: " + string.Join(", ", Reasons) : "")})";
}

/// <summary>The names of the validators in <see cref="ReenableValidation.Validator"/>.</summary>
public static class ReenableValidators
{
    public const string Dns = "dns";
    public const string Mailgun = "mailgun";
    /// <summary>Mailgun answered <c>unknown</c> and the DNS rule decided.</summary>
    public const string MailgunThenDns = "mailgun+dns";
}

/// <summary>Mailgun's email validation failed (after the client's retries): nothing was changed, the operator tries again.</summary>
public sealed class AddressValidationUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The result of the re-enable flow: a refusal (with the reason for people), or what was done. <see cref="OnlyAtMailgun"/>:
/// there was no DND entry here and the address was cleared from Mailgun's lists only (<see cref="Result"/> is null).
/// <see cref="Validation"/> is null when the flow stopped before validating.
/// </summary>
public sealed record ReenableOutcome(ReenableRefusal Refusal, string? Problem, DndStatus Status, DndApplyResult? Result, IReadOnlyDictionary<string, bool> MailgunRemoved,
    ReenableValidation? Validation = null, bool OnlyAtMailgun = false);

/// <summary>
/// The documented re-enable flow, one implementation for the CLI (<c>mailgun-ops dnd enable</c>) and the platform's API
/// (<c>POST /api/dnd/{tenant}/{address}/enable</c>). Checks first, so that a refusal changes nothing anywhere: an address
/// with an entry must be in DND (an address already clear is left alone, without calling Mailgun); a locked (complaint)
/// entry needs the audited admin override, and an entry the contact unsubscribed needs the unsubscribe override (consent
/// is the contact's to give, not the operator's). An address with no entry here may still be suppressed at Mailgun (put
/// there before this app, or by Mailgun itself): it is looked up on the bounces, unsubscribes and complaints of every
/// domain of the tenant, and the same consent rules apply to what is found there. The address must then be able to
/// receive mail: by Mailgun's email validation API when the tenant opted in (<see cref="Tenant.UseMailgunValidation"/>),
/// otherwise by <see cref="MailAddressCheck"/>. Then the address is deleted from Mailgun's bounces, unsubscribes and
/// complaints of every domain of the tenant (already absent is fine), and only then is the DND cleared
/// (<see cref="DndStore.ReenableAsync"/>, recorded with the actor and note). The platform's procedure reads "delete from
/// Mailgun's suppression list, validate, then clear the DND": validating first keeps Mailgun's lists as they were for an
/// address we refuse, and the DND is still cleared last, after both.
/// </summary>
public sealed class DndReenableFlow(DndStore store, MailgunApiClient mailgun, MailAddressCheck addresses)
{
    private static readonly SuppressionList[] Lists = [SuppressionList.Bounces, SuppressionList.Unsubscribes, SuppressionList.Complaints];

    /// <param name="actor">Who, with the channel: <c>cli:&lt;name&gt;</c> or <c>api:&lt;name&gt;</c> (notices name the channel from it).</param>
    /// <param name="note">Why (the history and the notice keep it); for an override, whose consent.</param>
    /// <param name="overrides">The blocks the operator lifts with the contact's consent (complaint, unsubscribe).</param>
    /// <remarks>
    /// Throws <see cref="MailgunApiException"/> (Mailgun failed or no API key), <see cref="AddressCheckUnavailableException"/> (DNS),
    /// <see cref="AddressValidationUnavailableException"/> (Mailgun's validation API), and storage errors.
    /// </remarks>
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
            return await EnableOnlyAtMailgunAsync(tenant, address, normalized, overrides, status, cancellationToken).ConfigureAwait(false);
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

        var (validation, refusal, problem) = await ValidateAsync(tenant, address, cancellationToken).ConfigureAwait(false);
        if (refusal != ReenableRefusal.None)
        {
            return new ReenableOutcome(refusal, problem, status, null, removed, validation);
        }

        await DeleteAtMailgunAsync(tenant, normalized, removed, cancellationToken).ConfigureAwait(false);

        // The history says an unsubscribe was lifted on the operator's word of consent, beside the note that records it.
        string recorded = unsubscribed ? "unsubscribe override: " + note : note;
        var result = await store.ReenableAsync(tenant.Id, normalized, actor, recorded, overrideComplaint, cancellationToken).ConfigureAwait(false);
        return result.Outcome == DndApplyOutcome.Refused
            ? new ReenableOutcome(ReenableRefusal.LockedMeanwhile, $"'{normalized}' became locked (a complaint) while re-enabling; nothing was cleared in the store", result.Current, result, removed, validation)
            : new ReenableOutcome(ReenableRefusal.None, null, result.Current, result, removed, validation);
    }

    /// <summary>
    /// No DND entry here: the address may still be on Mailgun's lists of the tenant's domains (single-address reads, nothing
    /// changed). Not on any: not found. On some: the same consent rules as for an entry (a complaint needs the complaint
    /// override, an unsubscribe the unsubscribe override), then validation, then the delete; there is nothing to clear here.
    /// </summary>
    private async Task<ReenableOutcome> EnableOnlyAtMailgunAsync(Tenant tenant, string address, string normalized, ReenableOverrides overrides, DndStatus status, CancellationToken cancellationToken)
    {
        var removed = new Dictionary<string, bool>(StringComparer.Ordinal);
        // Never send Mailgun something that is no address (and say so rather than "not found").
        if (MailAddressCheck.SyntaxProblem(address) is { } syntax)
        {
            return new ReenableOutcome(ReenableRefusal.AddressInvalid, syntax, status, null, removed);
        }

        var found = new HashSet<SuppressionList>();
        foreach (var domain in tenant.Domains)
        {
            foreach (var list in Lists)
            {
                if (!found.Contains(list) && await mailgun.IsSuppressedAsync(tenant.MailgunDomain(domain), list, normalized, cancellationToken).ConfigureAwait(false))
                {
                    found.Add(list);
                }
            }
        }

        if (found.Count == 0)
        {
            return new ReenableOutcome(ReenableRefusal.NotFound,
                $"no DND entry for '{normalized}' in tenant '{tenant.Id}', and it is on none of Mailgun's bounces, unsubscribes or complaints of the tenant's domains: nothing to re-enable", status, null, removed);
        }

        if (found.Contains(SuppressionList.Complaints) && !overrides.HasFlag(ReenableOverrides.Complaint))
        {
            return new ReenableOutcome(ReenableRefusal.Locked,
                $"'{normalized}' is on Mailgun's complaints list (the contact marked a message as spam; no DND entry here). Sending again needs the contact's renewed consent; "
                + "if you have it, ask for the audited override, naming the operator and a note that records the consent.", status, null, removed, OnlyAtMailgun: true);
        }

        if (found.Contains(SuppressionList.Unsubscribes) && !overrides.HasFlag(ReenableOverrides.Unsubscribe))
        {
            return new ReenableOutcome(ReenableRefusal.Unsubscribed,
                $"'{normalized}' is on Mailgun's unsubscribes list (no DND entry here). Sending again needs the contact's renewed consent; "
                + "if you have it, ask for the unsubscribe override with a note that records the consent (when and how the contact asked).", status, null, removed, OnlyAtMailgun: true);
        }

        var (validation, refusal, problem) = await ValidateAsync(tenant, address, cancellationToken).ConfigureAwait(false);
        if (refusal != ReenableRefusal.None)
        {
            return new ReenableOutcome(refusal, problem, status, null, removed, validation, OnlyAtMailgun: true);
        }

        await DeleteAtMailgunAsync(tenant, normalized, removed, cancellationToken).ConfigureAwait(false);
        return new ReenableOutcome(ReenableRefusal.None, null, status, null, removed, validation, OnlyAtMailgun: true);
    }

    /// <summary>
    /// Whether the address can receive mail. With the tenant's opt-in, Mailgun's validation decides: <c>deliverable</c> and
    /// <c>catch_all</c> (the domain accepts every address: Mailgun cannot tell more, and refusing would refuse every contact
    /// at such a domain) pass, <c>undeliverable</c> and <c>do_not_send</c> are refused with Mailgun's reasons, and
    /// <c>unknown</c> (Mailgun could not reach a verdict) falls back to the DNS rule. Mailgun failing after retries stops
    /// the flow before any change (<see cref="AddressValidationUnavailableException"/>).
    /// </summary>
    private async Task<(ReenableValidation Validation, ReenableRefusal Refusal, string? Problem)> ValidateAsync(Tenant tenant, string address, CancellationToken cancellationToken)
    {
        if (MailAddressCheck.SyntaxProblem(address) is { } syntax)
        {
            return (new ReenableValidation(ReenableValidators.Dns, "refused", null, [syntax]), ReenableRefusal.AddressInvalid, syntax);
        }

        string validator = ReenableValidators.Dns;
        string? risk = null;
        IReadOnlyList<string> reasons = [];
        if (tenant.UseMailgunValidation)
        {
            MailgunAddressValidation answer;
            try
            {
                answer = await mailgun.ValidateAddressAsync(tenant.Account(), DndKeys.NormalizeAddress(address), cancellationToken).ConfigureAwait(false);
            }
            catch (MailgunApiException ex) when (!ex.IsMissingApiKey)
            {
                throw new AddressValidationUnavailableException($"Mailgun's email validation failed: {ex.Message} Nothing was changed; try again.", ex);
            }

            var mailgunSays = new ReenableValidation(ReenableValidators.Mailgun, answer.Result, answer.Risk, answer.Reasons);
            switch (answer.Result)
            {
                case "deliverable" or "catch_all":
                    return (mailgunSays, ReenableRefusal.None, null);
                case "undeliverable" or "do_not_send":
                    return (mailgunSays, ReenableRefusal.CannotReceiveMail, $"{mailgunSays.Describe()} says the address should not get mail");
                default:
                    // "unknown" (or a result Mailgun adds later): Mailgun has no verdict, our own rule decides.
                    (validator, risk, reasons) = (ReenableValidators.MailgunThenDns, answer.Risk, [$"mailgun: {answer.Result}", .. answer.Reasons]);
                    break;
            }
        }

        if (await addresses.ProblemWithAddressAsync(address, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            return (new ReenableValidation(validator, "refused", risk, [.. reasons, problem]), ReenableRefusal.CannotReceiveMail, problem);
        }

        return (new ReenableValidation(validator, "ok", risk, reasons), ReenableRefusal.None, null);
    }

    /// <summary>The DND is the tenant's, for every one of its domains: so are the suppressions to clear.</summary>
    private async Task DeleteAtMailgunAsync(Tenant tenant, string normalized, Dictionary<string, bool> removed, CancellationToken cancellationToken)
    {
        foreach (var domain in tenant.Domains)
        {
            foreach (var list in Lists)
            {
                string name = tenant.Domains.Count == 1 ? list.PathSegment() : $"{domain.Name}:{list.PathSegment()}";
                removed[name] = await mailgun.DeleteSuppressionAsync(tenant.MailgunDomain(domain), list, normalized, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
