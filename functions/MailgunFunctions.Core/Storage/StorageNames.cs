namespace MailgunFunctions.Storage;

/// <summary>
/// Names of the queues, tables and containers the product uses. Fixed (not settings) because the trigger
/// bindings name them at compile time and operators' queries name them in the docs
/// (docs/storage.md lists every one; a test keeps that list and this class equal).
/// </summary>
public static class StorageNames
{
    /// <summary>The connection setting shared by the Functions host and the app's own clients.</summary>
    public const string ConnectionSetting = "AzureWebJobsStorage";

    /// <summary>
    /// The most storage shards a build can bind: each shard past the home one has its own queue triggers, and Functions
    /// bindings are fixed at build time (see ShardQueueFunctions). Raising it is a code change and a deployment;
    /// choosing K up to it is a setting (<c>Storage__Shards</c>).
    /// </summary>
    public const int MaxShards = 8;

    /// <summary>The prefix of the connection settings of shards 1 and up: <c>StorageShard1</c>, <c>StorageShard2</c>...</summary>
    public const string ShardConnectionPrefix = "StorageShard";

    /// <summary>The connection setting of a shard: the home account's for shard 0, <c>StorageShard{k}</c> for the others.</summary>
    public static string ShardConnectionSetting(int shard) =>
        shard == 0 ? ConnectionSetting : ShardConnectionPrefix + shard.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Verified Mailgun events waiting to be classified.</summary>
    public const string EventsQueue = "mailgun-events";

    /// <summary>Where the Functions host moves an events message after maxDequeueCount failures.</summary>
    public const string EventsPoisonQueue = "mailgun-events-poison";

    /// <summary>Claim check: event payloads too big for a queue message.</summary>
    public const string EventPayloadsContainer = "mailgun-event-payloads";

    /// <summary>
    /// One row per event a replay or backfill has poisoned (PartitionKey = SHA-256 of the tenant and the event): a second
    /// replay of the same bad line finds it and does not poison the event again.
    /// </summary>
    public const string ReplayPoisonTable = "ReplayPoison";

    /// <summary>
    /// Every accepted webhook token with the hash of its body (replay defence): the prefix of one table per UTC day of
    /// the signed timestamp, <c>WebhookTokens{yyyyMMdd}</c> (see ReplayGuard.TableFor).
    /// </summary>
    public const string WebhookTokensTable = "WebhookTokens";

    /// <summary>One DND entry per (tenant, address): PartitionKey = tenant, RowKey = encoded address.</summary>
    public const string DndEntriesTable = "DndEntries";

    /// <summary>Why each DND entry changed: PartitionKey = tenant|address, RowKey = inverted event time + event hash (newest first).</summary>
    public const string DndHistoryTable = "DndHistory";

    /// <summary>Every DND change as a notice (JSON, base64 like every queue message here), for consumers inside Azure. Never read by the app itself.</summary>
    public const string DndChangesQueue = "dnd-changes";

    /// <summary>The app's own retry queue of platform notifications (POSTs that failed or wait), hidden until due.</summary>
    public const string NotificationsQueue = "dnd-notifications";

    /// <summary>Where the Functions host moves a notifications message after maxDequeueCount failures (only when storage keeps failing).</summary>
    public const string NotificationsPoisonQueue = "dnd-notifications-poison";

    /// <summary>When each temporary DND ends: PartitionKey = UTC minute (yyyyMMddHHmm), RowKey = tenant|address.</summary>
    public const string DndExpiriesTable = "DndExpiries";

    /// <summary>Platform notifications not delivered within Notifications:RetryFor: PartitionKey = tenant, RowKey = inverted time + notice id.</summary>
    public const string NotificationDeadLettersTable = "DndNotificationDeadLetters";

    /// <summary>Sender-side failures (authentication, reputation, content) per tenant and 10-minute bucket, with counters.</summary>
    public const string SenderIssuesTable = "SenderIssues";

    /// <summary>Per-tenant daily counts of sends, deliveries, hard bounces, complaints and unsubscribes (docs/rates.md).</summary>
    public const string TenantRatesTable = "TenantRates";

    /// <summary>Nightly CSV exports of Mailgun's suppression lists: <c>{tenant}/{domain}/{yyyy-MM-dd}/{list}.csv</c>, <c>summary.json</c>, <c>report.md</c>.</summary>
    public const string SuppressionExportsContainer = "suppression-exports";

    /// <summary>Status of each export run per tenant and domain, date and list (checkpoint and operators' view).</summary>
    public const string ExportRunsTable = "ExportRuns";

    /// <summary>
    /// The same domain runs by date, for the status of a whole night: PartitionKey = <c>yyyy-MM-dd</c>, RowKey =
    /// <c>{tenant}|{domain}</c> (and <c>""</c> for the night's fan-out).
    /// </summary>
    public const string ExportRunsByDateTable = "ExportRunsByDate";

    /// <summary>One export job per tenant, domain and date, put there by the nightly timer and run by the export queue function.</summary>
    public const string ExportJobsQueue = "suppression-export-jobs";

    /// <summary>Export jobs that failed <c>maxDequeueCount</c> times (moved by the host), or can never be read.</summary>
    public const string ExportJobsPoisonQueue = "suppression-export-jobs-poison";
    /// <summary>Our own unsubscribes (the platform's link, a reply) and their undos, to be mirrored on Mailgun's unsubscribe list of each of the tenant's domains.</summary>
    public const string MailgunUnsubscribesQueue = "mailgun-unsubscribes";

    /// <summary>Mailgun-unsubscribe messages that failed <c>maxDequeueCount</c> times (moved by the host).</summary>
    public const string MailgunUnsubscribesPoisonQueue = "mailgun-unsubscribes-poison";

    /// <summary>Per tenant, address and domain: whether the address was on Mailgun's unsubscribe list before we added it, so an undo removes only what we added.</summary>
    public const string MailgunUnsubscribesTable = "MailgunUnsubscribes";

    /// <summary>Verified inbound replies (Mailgun Routes) waiting to be processed: small envelopes pointing at the raw payload.</summary>
    public const string InboundQueue = "mailgun-inbound";

    /// <summary>Inbound envelopes that can never be processed, with the reason (sent at once, or by the host after maxDequeueCount).</summary>
    public const string InboundPoisonQueue = "mailgun-inbound-poison";

    /// <summary>The original inbound payloads (the request body as Mailgun posted it); deleted by a lifecycle rule.</summary>
    public const string InboundRawContainer = "mailgun-inbound-raw";

    /// <summary>Replies per tenant, newest first.</summary>
    public const string RepliesTable = "Replies";

    /// <summary>The same replies per tenant and contact, newest first (threaded replies only).</summary>
    public const string ContactRepliesTable = "ContactReplies";

    /// <summary>Erasures on request (GDPR): PartitionKey = tenant, RowKey = inverted time + id; when, the note and counts, never the address.</summary>
    public const string DndErasuresTable = "DndErasures";

    /// <summary>Messages we sent (from accepted/delivered events), so replies can be threaded: PartitionKey = tenant, RowKey = encoded message id | encoded recipient.</summary>
    public const string SentMessagesTable = "SentMessages";

    /// <summary>Mailgun's allowlist of each tenant as the nightly export last read it, for processing: PartitionKey = tenant, RowKey = a:{address} or d:{domain}.</summary>
    public const string MailgunAllowlistTable = "MailgunAllowlist";
    /// <summary>The tenant registry: one row per tenant (PartitionKey = tenant id, RowKey = ""), secrets sealed (see SecretBox).</summary>
    public const string TenantsTable = "Tenants";

    /// <summary>Which tenant owns each sending domain: PartitionKey = lower-case domain, RowKey = "", <c>TenantId</c>. A domain belongs to one tenant.</summary>
    public const string TenantDomainsTable = "TenantDomains";

    /// <summary>Every change to a tenant: PartitionKey = tenant id, RowKey = inverted time + id; who, when, what (never a secret).</summary>
    public const string TenantAuditTable = "TenantAudit";

    /// <summary>Parent (primary) Mailgun accounts whose signing key verifies <c>parent-signature</c> for subaccount tenants: PartitionKey = id, RowKey = "".</summary>
    public const string ParentAccountsTable = "MailgunParentAccounts";
}
