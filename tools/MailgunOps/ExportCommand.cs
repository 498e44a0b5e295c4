using System.CommandLine;
using System.Globalization;
using MailgunFunctions.Export;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;

namespace MailgunOps;

/// <summary>
/// <c>export</c>: the nightly suppression export of one tenant's domain, now (<c>SuppressionExport.ExportDomainAsync</c>);
/// <c>export status</c>: where a night's export stands across tenants (<see cref="ExportStatusReport"/>).
/// </summary>
public static class ExportCommand
{
    public static Command Build(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false, "The sending domain to export (one of the tenant's; names the tenant when --tenant is not given; optional for a tenant of one domain).");
        var region = OpsCommands.Region();
        var output = new Option<DirectoryInfo?>("--out") { Description = "Also download the CSVs and summary.json into this directory." };
        var command = new Command("export", "Run the nightly suppression export of one tenant's domain now (into the suppression-exports container), or show a night's status.")
        {
            tenant, domain, region, output,
        };
        command.Subcommands.Add(Status(runtime));
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var owner = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), parse.GetValue(region), token).ConfigureAwait(false);
            var d = OpsContext.MailgunDomainOf(owner, parse.GetValue(domain));
            var date = DateOnly.FromDateTime(ctx.Time.GetUtcNow().UtcDateTime);
            ctx.Output.Progress($"exporting {d.Name} of tenant {owner.Id} for {date:yyyy-MM-dd}...");
            // Mailgun does not say how long its lists are: the progress counts records without a total.
            var progress = ctx.Progress("export", "records", null);
            // The run reconciles into the tenant's shard (its DND and allowlist); the files are written to the home account.
            var summary = await (await ctx.ForTenantChangeAsync(owner.Id, token).ConfigureAwait(false)).Get<SuppressionExport>().ExportDomainAsync(owner.Tenant, d, date, progress, token).ConfigureAwait(false);
            progress.Finish();
            var files = new List<string>();
            if (parse.GetValue(output) is { } directory)
            {
                directory.Create();
                var container = ctx.Get<HomeStorage>().Blobs.GetBlobContainerClient(StorageNames.SuppressionExportsContainer);
                string prefix = $"{summary.Scope.Key}/{summary.Date}/";
                await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, token).ConfigureAwait(false))
                {
                    string name = blob.Name[prefix.Length..];
                    // Only plain file names: a blob name is not trusted to stay inside the directory.
                    if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    string path = Path.Combine(directory.FullName, name);
                    await container.GetBlobClient(blob.Name).DownloadToAsync(path, token).ConfigureAwait(false);
                    files.Add(path);
                }
            }

            if (ctx.Output.Json)
            {
                ctx.Output.Document(new { summary, files });
            }
            else
            {
                ctx.Output.Text($"{summary.Domain} ({summary.Region}) {summary.Date}: {summary.TotalRecords} records, reconciliation {summary.Reconciliation}");
                ctx.Output.Table(["LIST", "RECORDS"], summary.Lists.Select(p => new[] { p.Key, p.Value.Records.ToString(CultureInfo.InvariantCulture) }));
                foreach (string f in files)
                {
                    ctx.Output.Text("wrote " + f);
                }
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>
    /// <c>export status [--date yyyy-MM-dd] [--tenant T] [--failed] [--all]</c>: counts per state across tenants and the
    /// scopes that need attention; exit 7 when any scope failed, so monitoring can run it after the night.
    /// </summary>
    private static Command Status(OpsRuntime runtime)
    {
        var date = new Option<DateOnly?>("--date") { Description = "The export's date, yyyy-MM-dd (UTC; default: today).", CustomParser = ParseDate };
        var tenant = new Option<string>("--tenant") { Description = "Only this tenant's domains (all of them listed, completed ones too)." };
        var failed = new Option<bool>("--failed") { Description = "List only the failed scopes." };
        var all = new Option<bool>("--all") { Description = "List every scope, completed ones too (default: those that are not completed)." };
        var command = new Command("status", "Where a night's export stands across tenants: scopes completed, failed, running, not started; exit 7 when any failed.")
        {
            date, tenant, failed, all,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            string? only = null;
            if (parse.GetValue(tenant) is { Length: > 0 } given)
            {
                only = TenantId.Parse(given) ?? throw new OpsException(ExitCodes.Usage, "--tenant: " + TenantId.Problem(given));
            }

            var day = parse.GetValue(date) ?? DateOnly.FromDateTime(ctx.Time.GetUtcNow().UtcDateTime);
            var night = await ctx.Get<ExportStatusReport>().ForDateAsync(day, only, token).ConfigureAwait(false);
            bool listAll = parse.GetValue(all) || only is not null;
            var listed = night.Scopes
                .Where(s => parse.GetValue(failed) ? s.State == ExportScopeState.Failed : listAll || s.State != ExportScopeState.Completed)
                .ToList();
            int tenants = night.Scopes.Select(s => s.Tenant).Distinct(StringComparer.Ordinal).Count();
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new
                {
                    date = night.Date,
                    fanOut = night.FanOut is { } f ? new { jobs = f.Jobs, tenants = f.Tenants, queuedAt = f.QueuedAt, elapsedMs = (long)f.Elapsed.TotalMilliseconds } : null,
                    tenants,
                    scopes = night.Total,
                    completed = night.Completed,
                    failed = night.Failed,
                    running = night.Running,
                    notStarted = night.NotStarted,
                    items = listed.Select(s => new
                    {
                        tenant = s.Tenant, domain = s.Domain, state = StateName(s.State), attempts = s.Attempts, startedAt = s.StartedAt, completedAt = s.CompletedAt,
                        records = s.Records, error = s.Error,
                    }),
                });
            }
            else
            {
                ctx.Output.Text($"{night.Date}: {night.Total} scopes of {tenants} tenants: {night.Completed} completed, {night.Failed} failed, " +
                    $"{night.Running} running, {night.NotStarted} not started");
                ctx.Output.Text(night.FanOut is { } f
                    ? $"fan-out: {f.Jobs} jobs for {f.Tenants} tenants queued at {Output.Time(f.QueuedAt)} in {f.Elapsed.TotalMilliseconds:0} ms"
                    : "fan-out: none recorded for this date (the timer has not run, or the scopes were exported by hand)");
                if (listed.Count > 0)
                {
                    ctx.Output.Table(["TENANT", "DOMAIN", "STATE", "ATTEMPTS", "STARTED", "ERROR"], listed.Select(s => new[]
                    {
                        s.Tenant, s.Domain, StateName(s.State), s.Attempts.ToString(CultureInfo.InvariantCulture), Output.Time(s.StartedAt), OneLine(s.Error),
                    }));
                }
            }

            return night.Failed > 0 ? ExitCodes.Problems : ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static string StateName(ExportScopeState state) => state switch
    {
        ExportScopeState.NotStarted => "not-started",
        ExportScopeState.Running => "running",
        ExportScopeState.Completed => "completed",
        _ => "failed",
    };

    private static string? OneLine(string? text) => text?.ReplaceLineEndings(" ");

    private static DateOnly? ParseDate(System.CommandLine.Parsing.ArgumentResult result)
    {
        string? token = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
        if (DateOnly.TryParseExact(token, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return day;
        }

        result.AddError($"--date must be yyyy-MM-dd (got '{token}').");
        return null;
    }
}
