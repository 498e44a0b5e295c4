using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Tenants;

/// <summary>Structured log events about tenants (ids 80xx). Never a secret: key ids only, URLs never (they carry the function key).</summary>
internal static partial class TenantLog
{
    [LoggerMessage(8001, LogLevel.Warning, "Tenant {Tenant} trusts parent account {ParentAccount}, which is not in the registry: only the tenant's own keys verify its events")]
    public static partial void ParentAccountMissing(ILogger logger, string tenant, string parentAccount);

    [LoggerMessage(8002, LogLevel.Information, "Tenant {Tenant} connected: {Domains} domain(s), signing key {SigningKeyId}; changed anything: {Changed}")]
    public static partial void Connected(ILogger logger, string tenant, int domains, string signingKeyId, bool changed);

    [LoggerMessage(8003, LogLevel.Warning, "Tenant {Tenant}: Mailgun's side is incomplete after {Command}; the registry keeps what was stored and a rerun completes it")]
    public static partial void MailgunSideIncomplete(ILogger logger, Exception exception, string tenant, string command);

    [LoggerMessage(8004, LogLevel.Information, "Tenant {Tenant}: signing key {SigningKeyId} is current; retired {RetiredKeyIds}, which verify until {RetiredUntil:u}")]
    public static partial void SigningKeyRotated(ILogger logger, string tenant, string signingKeyId, string retiredKeyIds, DateTimeOffset retiredUntil);

    [LoggerMessage(8005, LogLevel.Information, "Tenant {Tenant} disconnected: API key forgotten, {SigningKeys} signing key(s) kept for Mailgun's retries")]
    public static partial void Disconnected(ILogger logger, string tenant, int signingKeys);
}
