using System.Globalization;

namespace MailgunFunctions.Export;

/// <summary>Where one scope's export of a date stands, seen across the night.</summary>
public enum ExportScopeState
{
    /// <summary>No job of this date has started it: still queued, or never queued (the timer did not run, the tenant is new).</summary>
    NotStarted,

    /// <summary>A job is at work, or died (instance recycled) and its retry or continuation has not started yet.</summary>
    Running,

    Completed,

    /// <summary>Failed: for good (key refused, tenant unknown or disconnected), or a transient failure whose retry has not started yet.</summary>
    Failed,
}

/// <summary>One scope in a night's status.</summary>
public sealed record ExportScopeStatus(string Tenant, string Domain, ExportScopeState State, int Attempts, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt,
    long? Records, string? Error);

/// <summary>The export of one date across tenants: counts per state and every scope (<see cref="Scopes"/>).</summary>
public sealed record ExportNightStatus(string Date, ExportFanOutRecord? FanOut, int Completed, int Failed, int Running, int NotStarted,
    IReadOnlyList<ExportScopeStatus> Scopes)
{
    public int Total => Scopes.Count;
}

/// <summary>
/// The status of a night's export across tenants (<c>mailgun-ops export status</c>): the date's rows of
/// <c>ExportRunsByDate</c> (one partition), and every scope the registry says should be exported that has no row yet
/// as not started. A scope that has a row but is no longer in the registry (disconnected since) is still shown.
/// </summary>
public sealed class ExportStatusReport(ExportScopes scopes, ExportRunStore runs)
{
    public async Task<ExportNightStatus> ForDateAsync(DateOnly date, string? tenant, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, ExportStatus>(StringComparer.Ordinal);
        await foreach (var row in runs.ListDateAsync(date, tenant, cancellationToken).ConfigureAwait(false))
        {
            rows[row.Scope.Key] = row;
        }

        var all = new List<ExportScopeStatus>(rows.Count);
        all.AddRange(rows.Values.Select(Of));
        var expected = tenant is null ? scopes.AllAsync(cancellationToken) : (await scopes.OfTenantAsync(tenant, cancellationToken).ConfigureAwait(false)).ToAsyncEnumerable();
        await foreach (var scope in expected.ConfigureAwait(false))
        {
            if (!rows.ContainsKey(scope.Key))
            {
                all.Add(new ExportScopeStatus(scope.Tenant, scope.Domain, ExportScopeState.NotStarted, 0, null, null, null, null));
            }
        }

        all.Sort((a, b) => string.CompareOrdinal(a.Tenant, b.Tenant) is int c and not 0 ? c : string.CompareOrdinal(a.Domain, b.Domain));
        int Count(ExportScopeState state) => all.Count(s => s.State == state);
        return new ExportNightStatus(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), await runs.GetFanOutAsync(date, cancellationToken).ConfigureAwait(false),
            Count(ExportScopeState.Completed), Count(ExportScopeState.Failed), Count(ExportScopeState.Running), Count(ExportScopeState.NotStarted), all);
    }

    private static ExportScopeStatus Of(ExportStatus row) => new(row.Scope.Tenant, row.Scope.Domain,
        row.State switch
        {
            ExportState.Completed => ExportScopeState.Completed,
            ExportState.Failed => ExportScopeState.Failed,
            _ => ExportScopeState.Running,
        },
        row.Attempts, row.StartedAt, row.CompletedAt, row.State == ExportState.Completed ? row.Records : null, row.Error);
}
