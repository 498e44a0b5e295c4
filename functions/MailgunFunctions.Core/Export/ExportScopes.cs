using System.Runtime.CompilerServices;
using MailgunFunctions.Tenants;

namespace MailgunFunctions.Export;

/// <summary>
/// What a night's export covers: every domain of the single-account tenant and of every registry tenant that can be
/// exported (not disconnected, with an API key). Read from the registry without opening a secret.
/// </summary>
public sealed class ExportScopes(TenantDirectory tenants, TenantRegistry registry)
{
    /// <summary>Every scope, tenant by tenant (the single-account tenant first). One scan of the registry.</summary>
    public async IAsyncEnumerable<ExportScope> AllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (tenants.Implicit?.Tenant is { } single)
        {
            foreach (var domain in single.Domains)
            {
                yield return new ExportScope(single.Id, domain.Name);
            }
        }

        if (!registry.Enabled)
        {
            yield break;
        }

        await foreach (var tenant in registry.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!Exportable(tenant.State, tenant.HasApiKey) || tenant.Id == tenants.Implicit?.Id)
            {
                continue;
            }

            foreach (var domain in tenant.Domains)
            {
                yield return new ExportScope(tenant.Id, domain.Name);
            }
        }
    }

    /// <summary>The scopes of one tenant (none when it is unknown or cannot be exported).</summary>
    public async Task<IReadOnlyList<ExportScope>> OfTenantAsync(string tenantId, CancellationToken cancellationToken)
    {
        var tenant = await tenants.FindAsync(tenantId, cancellationToken).ConfigureAwait(false);
        return tenant is null || !Exportable(tenant.Tenant.State, tenant.Tenant.ApiKey is { Length: > 0 })
            ? []
            : tenant.Tenant.Domains.Select(d => new ExportScope(tenant.Id, d.Name)).ToList();
    }

    /// <summary>
    /// Why a tenant's domain cannot be exported now, or null when it can (checked before Mailgun is called). A missing API
    /// key is left to the API client, whose error names the setting to fix.
    /// </summary>
    public static string? Refusal(ResolvedTenant? tenant, ExportScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (tenant is null)
        {
            return $"tenant '{scope.Tenant}' is not registered (removed after the job was queued?)";
        }

        if (tenant.Tenant.State == TenantState.Disconnected)
        {
            return $"tenant '{scope.Tenant}' is disconnected: nothing is exported until it is connected again (mailgun-ops tenant connect --tenant {scope.Tenant})";
        }

        return tenant.Tenant.Domain(scope.Domain) is null
            ? $"domain '{scope.Domain}' is not a domain of tenant '{scope.Tenant}' (any more): nothing to export"
            : null;
    }

    // A disconnected tenant's API key is gone; a tenant being connected has one and is exported already.
    private static bool Exportable(TenantState state, bool hasApiKey) => state != TenantState.Disconnected && hasApiKey;
}
