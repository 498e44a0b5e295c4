using MailgunFunctions.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.App;

/// <summary>
/// <c>MailgunFunctions.App --check</c>: what the host would do at start-up, without the host. Validates every option
/// (naming the setting to fix) and reaches the storage account, so scripts/run.sh can prove all is ready before
/// handing over to <c>func start</c>.
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

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var clients = services.GetRequiredService<StorageClients>();
            await clients.Queues.GetPropertiesAsync(timeout.Token);
            await clients.Tables.GetPropertiesAsync(timeout.Token);
            await clients.Blobs.GetPropertiesAsync(cancellationToken: timeout.Token);
            output.WriteLine($"check: storage reachable ({clients.Queues.AccountName})");
        }
        catch (Exception ex)
        {
            // Any failure here (connection, retries exhausted, credentials, missing setting) means "not ready": report it, don't crash.
            output.WriteLine("check FAILED: storage is not reachable: " + ex.Message.Split('\n')[0]);
            return 1;
        }

        return 0;
    }
}
