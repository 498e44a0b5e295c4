using MailgunFunctions.Tenants;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Webhooks;

/// <summary>The one rule both webhooks use to find the tenant their URL names.</summary>
public static class WebhookTenant
{
    /// <summary>
    /// The tenant of <paramref name="tenantId"/> (null: the URL without a tenant, i.e. the single-account tenant), or the
    /// rejection: 404 <c>tenant_unknown</c> (Mailgun retries, so a tenant being connected loses nothing), or 503 when the
    /// registry cannot be read.
    /// </summary>
    public static async Task<(ResolvedTenant? Tenant, IntakeResult? Rejection)> FindAsync(TenantDirectory tenants, string? tenantId, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenants);
        if (tenantId is null)
        {
            return tenants.Implicit is { } single
                ? (single, null)
                : (null, IntakeResult.TenantUnknown($"this deployment has no single-account tenant: use the tenant's own URL (…/mailgun/{{tenant}}/…)"));
        }

        if (TenantId.Parse(tenantId) is not { } id)
        {
            return (null, IntakeResult.TenantUnknown(TenantId.Problem(tenantId)));
        }

        try
        {
            var tenant = await tenants.FindAsync(id, cancellationToken).ConfigureAwait(false);
            return tenant is null ? (null, IntakeResult.TenantUnknown($"tenant '{id}' is not registered")) : (tenant, null);
        }
        catch (Exception ex) when (Storage.StorageFailure.Is(ex, cancellationToken))
        {
            WebhookLog.TenantLookupFailed(logger, ex, id);
            return (null, IntakeResult.StorageUnavailable);
        }
    }
}
