using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Tenants;

/// <summary>Structured log events of <c>mailgun-ops migrate</c> (ids 81xx). Domains and tenant ids only, never an address.</summary>
internal static partial class MigrationLog
{
    [LoggerMessage(8101, LogLevel.Information, "Migration (dry run: {DryRun}): {Rows} row(s) of domain {Domain} to tenant {Tenant} ({Owner}), {Merged} merged with the tenant's")]
    public static partial void DomainMoved(ILogger logger, string domain, string tenant, string owner, int rows, int merged, bool dryRun);

    [LoggerMessage(8102, LogLevel.Warning, "Migration: {Rows} row(s) of domain {Domain} stay where they are: no tenant owns the domain and there is no single-account tenant")]
    public static partial void DomainUnowned(ILogger logger, string domain, int rows);
}
