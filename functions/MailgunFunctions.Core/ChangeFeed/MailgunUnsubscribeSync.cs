using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using MailgunFunctions.Dnd;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json;

namespace MailgunFunctions.ChangeFeed;

/// <summary>One of our own unsubscribes (or its undo) to mirror at Mailgun: what the <c>mailgun-unsubscribes</c> queue carries.</summary>
/// <param name="Remove">False: put the address on Mailgun's unsubscribe lists; true: the contact undid it.</param>
/// <param name="Version">The DND change's version: a message older than what was applied for the address is stale.</param>
public sealed record MailgunUnsubscribeMessage(string Tenant, string Address, bool Remove, long Version)
{
    public string ToJson() => JsonConvert.SerializeObject(this);

    public static MailgunUnsubscribeMessage? FromJson(string json)
    {
        try
        {
            return JsonConvert.DeserializeObject<MailgunUnsubscribeMessage>(json) is { Tenant.Length: > 0, Address.Length: > 0 } message ? message : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The message a recorded change calls for, or null: an unsubscribe from the platform's link or from a reply, and the
    /// link's undo. Other unsubscribes came from Mailgun (its list or its event) and are there already; operators' blocks
    /// and re-enables are the operator's (dnd enable clears Mailgun's lists itself).
    /// </summary>
    public static MailgunUnsubscribeMessage? For(DndNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        if (notice.Address is not { Length: > 0 } address)
        {
            return null;
        }

        bool ours = notice.Source.Type is "unsubscribe-link" or "inbound-reply";
        if (ours && notice.Change.Category == "unsubscribe" && notice.Current.State != "none")
        {
            return new(notice.Tenant, address, Remove: false, notice.Version);
        }

        return notice.Source.Type == "unsubscribe-link" && notice.Change.Kind == "reenable" ? new(notice.Tenant, address, Remove: true, notice.Version) : null;
    }
}

/// <summary>
/// The <c>mailgun-unsubscribes</c> queue's sending side, used by <see cref="DndChangeDispatcher"/> before it confirms a
/// change's outbox row (a singleton without the Mailgun client; <see cref="MailgunUnsubscribeSync"/> does the calls).
/// </summary>
public sealed class MailgunUnsubscribeQueue
{
    private readonly QueueClient _queue;
    private readonly CreateOnce _created;

    public MailgunUnsubscribeQueue(HomeStorage clients)
    {
        ArgumentNullException.ThrowIfNull(clients);
        _queue = clients.Queues.GetQueueClient(StorageNames.MailgunUnsubscribesQueue);
        _created = new CreateOnce(ct => _queue.CreateIfNotExistsAsync(cancellationToken: ct));
    }

    /// <summary>Queues the change's message, when it calls for one (see <see cref="MailgunUnsubscribeMessage.For"/>).</summary>
    public async Task EnqueueAsync(DndNotice notice, CancellationToken cancellationToken)
    {
        if (MailgunUnsubscribeMessage.For(notice) is { } message)
        {
            await _created.RunAsync(ct => _queue.SendMessageAsync(message.ToJson(), ct), cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Mirrors our own unsubscribes on Mailgun's unsubscribe list of each of the tenant's domains, so Mailgun stops sending
/// too and the nightly reconciliation does not meet them again as news. Fed by <see cref="DndChangeDispatcher"/> from the
/// change's outbox (written in the DND entry's own transaction), so a crash anywhere leaves the change to be dispatched
/// again; failures to reach Mailgun throw and the queue retries, then poisons after the host's <c>maxDequeueCount</c>: the
/// DND itself was recorded before and never waits for Mailgun. Table <c>MailgunUnsubscribes</c> (PartitionKey = tenant,
/// RowKey = address hash + "|" + domain) remembers per domain whether the address was on Mailgun's list before we added
/// it (an undo then keeps it), what was applied last (<c>State</c>: <c>adding</c>, <c>added</c>, <c>kept</c>,
/// <c>removed</c>) and the change's <c>Version</c>, so redeliveries change nothing twice and a stale message is dropped.
/// </summary>
public sealed class MailgunUnsubscribeSync
{
    private const string Adding = "adding", Added = "added", Kept = "kept", Removed = "removed";

    private readonly TableClient _table;
    private readonly CreateOnce _tableCreated;
    private readonly MailgunApiClient _mailgun;
    private readonly TenantDirectory _tenants;
    private readonly ILogger<MailgunUnsubscribeSync> _logger;

    public MailgunUnsubscribeSync(HomeStorage clients, MailgunApiClient mailgun, TenantDirectory tenants, ILogger<MailgunUnsubscribeSync> logger)
    {
        ArgumentNullException.ThrowIfNull(clients);
        _table = clients.Tables.GetTableClient(StorageNames.MailgunUnsubscribesTable);
        _tableCreated = new CreateOnce(ct => _table.CreateIfNotExistsAsync(ct));
        _mailgun = mailgun;
        _tenants = tenants;
        _logger = logger;
    }

    /// <summary>
    /// Applies one message for every domain of the tenant. Throws <see cref="MailgunApiException"/> or storage errors so
    /// the queue retries; an unreadable message or a tenant that is gone or has no API key is logged and dropped.
    /// </summary>
    public async Task ProcessAsync(string text, CancellationToken cancellationToken)
    {
        if (MailgunUnsubscribeMessage.FromJson(text) is not { } message)
        {
            ChangeFeedLog.MailgunUnsubscribeSkipped(_logger, "?", "not a mailgun-unsubscribes message");
            return;
        }

        if (await _tenants.FindAsync(message.Tenant, cancellationToken).ConfigureAwait(false) is not { } resolved || resolved.Tenant.ApiKey is not { Length: > 0 })
        {
            ChangeFeedLog.MailgunUnsubscribeSkipped(_logger, message.Tenant, "unknown tenant, or no Mailgun API key (disconnected)");
            return;
        }

        await _tableCreated.EnsureAsync(cancellationToken).ConfigureAwait(false);
        foreach (var domain in resolved.Tenant.Domains)
        {
            await ApplyAsync(resolved.Tenant, domain, message, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ApplyAsync(Tenant tenant, TenantDomain domain, MailgunUnsubscribeMessage message, CancellationToken cancellationToken)
    {
        string address = DndKeys.NormalizeAddress(message.Address);
        string hash = DndNotice.HashOf(address);
        string partition = DndKeys.TenantKey(tenant.Id), row = $"{hash}|{domain.Name.ToLowerInvariant()}";
        var target = tenant.MailgunDomain(domain);
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken).ConfigureAwait(false);
        var current = found.HasValue ? found.Value : null;
        string state = current?.GetString("State") ?? Removed;
        long version = current?.GetInt64("Version") ?? 0;
        // A later change was applied already (queues do not keep order): this one is stale. The same version again is a
        // redelivery: done, unless it stopped between recording "adding" and Mailgun's answer.
        if (version > message.Version || (version == message.Version && state != Adding))
        {
            return;
        }

        string outcome;
        if (!message.Remove)
        {
            if (state != Adding)
            {
                // Looked up first: what was there before us is not ours to remove on an undo. Asked again even after an
                // earlier add of ours: an operator's re-enable (dnd enable) may have cleared Mailgun's list since.
                bool listed = await _mailgun.IsSuppressedAsync(target, SuppressionList.Unsubscribes, address, cancellationToken).ConfigureAwait(false);
                state = !listed ? Adding : state == Added ? Added : Kept;
                await UpsertAsync(partition, row, state, message.Version, cancellationToken).ConfigureAwait(false);
            }

            outcome = state == Kept ? "was already on the list (kept on an undo)" : state == Added ? "already on the list (ours)" : "added";
            if (state == Adding)
            {
                await _mailgun.AddUnsubscribeAsync(target, address, cancellationToken).ConfigureAwait(false);
                state = Added;
            }
        }
        else
        {
            if (state is Adding or Added)
            {
                await _mailgun.DeleteSuppressionAsync(target, SuppressionList.Unsubscribes, address, cancellationToken).ConfigureAwait(false);
                outcome = "removed (we had added it)";
            }
            else
            {
                outcome = state == Kept ? "kept (it was there before we added it)" : "nothing of ours to remove";
            }

            state = Removed;
        }

        await UpsertAsync(partition, row, state, message.Version, cancellationToken).ConfigureAwait(false);
        ChangeFeedLog.MailgunUnsubscribe(_logger, tenant.Id, domain.Name, hash, message.Version, outcome);
    }

    private Task<Response> UpsertAsync(string partition, string row, string state, long version, CancellationToken cancellationToken) =>
        _table.UpsertEntityAsync(new TableEntity(partition, row) { ["State"] = state, ["Version"] = version }, TableUpdateMode.Replace, cancellationToken);
}
