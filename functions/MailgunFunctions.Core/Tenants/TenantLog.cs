using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Tenants;

/// <summary>Structured log events about tenants (ids 80xx). Never a secret: key ids only.</summary>
internal static partial class TenantLog
{
    [LoggerMessage(8001, LogLevel.Warning, "Tenant {Tenant} trusts parent account {ParentAccount}, which is not in the registry: only the tenant's own keys verify its events")]
    public static partial void ParentAccountMissing(ILogger logger, string tenant, string parentAccount);
}
