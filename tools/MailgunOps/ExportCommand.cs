using System.CommandLine;
using System.Globalization;
using MailgunFunctions.Export;
using MailgunFunctions.Storage;

namespace MailgunOps;

/// <summary><c>export</c>: the nightly suppression export of one domain, now (<see cref="SuppressionExport.ExportDomainAsync"/>).</summary>
public static class ExportCommand
{
    public static Command Build(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(true, "The sending domain to export (one of the tenant's; names the tenant when --tenant is not given).");
        var region = OpsCommands.Region();
        var output = new Option<DirectoryInfo?>("--out") { Description = "Also download the CSVs and summary.json into this directory." };
        var command = new Command("export", "Run the nightly suppression export of a domain now (into the suppression-exports container).") { tenant, domain, region, output };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var owner = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), parse.GetValue(region), token).ConfigureAwait(false);
            var d = OpsContext.MailgunDomainOf(owner, parse.GetValue(domain));
            var date = DateOnly.FromDateTime(ctx.Time.GetUtcNow().UtcDateTime);
            ctx.Output.Progress($"exporting {d.Name} of tenant {owner.Id} for {date:yyyy-MM-dd}...");
            var summary = await ctx.Get<SuppressionExport>().ExportDomainAsync(owner.Tenant, d, date, token).ConfigureAwait(false);
            var files = new List<string>();
            if (parse.GetValue(output) is { } directory)
            {
                directory.Create();
                var container = ctx.Get<StorageClients>().Blobs.GetBlobContainerClient(StorageNames.SuppressionExportsContainer);
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
}
