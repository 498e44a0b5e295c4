using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.App;

/// <summary>
/// <c>MailgunFunctions.App --check</c>: what the host would do at start-up, without the host. Validates every option
/// (naming the setting to fix) and reaches the storage account, and with <c>Storage__Shards</c> above 1 every shard's
/// account too (naming its <c>StorageShard{k}</c> setting), so scripts/run.sh can prove all is ready before handing
/// over to <c>func start</c>.
/// </summary>
public static class StartupCheck
{
    public static async Task<int> RunAsync(IServiceProvider services, TextWriter output)
    {
        try
        {
            services.GetRequiredService<IStartupValidator>().Validate();
            output.WriteLine("check: settings are valid");
        }
        catch (OptionsValidationException ex)
        {
            output.WriteLine("check FAILED: " + ex.Message);
            return 1;
        }

        string? home = await ReachAsync(services, TimeSpan.FromSeconds(30));
        if (home is not null)
        {
            output.WriteLine("check FAILED: storage is not reachable: " + home);
            return 1;
        }

        output.WriteLine($"check: storage reachable ({services.GetRequiredService<StorageClients>().Queues.AccountName})");

        // Every shard is checked, not only the first failing one: a deployment raising K sets several settings at once.
        var shards = services.GetRequiredService<TenantShards>();
        int failed = 0;
        for (int k = 1; k < shards.Count; k++)
        {
            string setting = StorageNames.ShardConnectionSetting(k);
            IServiceProvider shard;
            try
            {
                shard = shards.Services(k);
            }
            catch (Exception ex) when (ex is InvalidOperationException or OptionsValidationException)
            {
                output.WriteLine($"check FAILED: storage shard {k} is not configured: set {setting}: {FirstLine(ex)}");
                failed++;
                continue;
            }

            string? problem = await ReachAsync(shard, TimeSpan.FromSeconds(30));
            if (problem is null)
            {
                output.WriteLine($"check: storage shard {k} reachable ({shard.GetRequiredService<StorageClients>().Queues.AccountName}, {setting})");
            }
            else
            {
                output.WriteLine($"check FAILED: storage shard {k} is not reachable: check {setting}: {problem}");
                failed++;
            }
        }

        return failed == 0 ? 0 : 1;
    }

    /// <summary>Reaches the three services of one account; the first line of what went wrong, or null.</summary>
    private static async Task<string?> ReachAsync(IServiceProvider services, TimeSpan limit)
    {
        try
        {
            using var timeout = new CancellationTokenSource(limit);
            var clients = services.GetRequiredService<StorageClients>();
            await clients.Queues.GetPropertiesAsync(timeout.Token);
            await clients.Tables.GetPropertiesAsync(timeout.Token);
            await clients.Blobs.GetPropertiesAsync(cancellationToken: timeout.Token);
            return null;
        }
        catch (Exception ex)
        {
            // Any failure here (connection, retries exhausted, credentials, missing setting) means "not ready": report it, don't crash.
            return FirstLine(ex);
        }
    }

    private static string FirstLine(Exception ex) => ex.Message.Split('\n')[0];
}
