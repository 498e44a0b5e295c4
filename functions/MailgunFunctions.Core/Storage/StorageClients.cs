using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;

namespace MailgunFunctions.Storage;

/// <summary>
/// Builds the app's blob, queue and table clients from the <c>AzureWebJobsStorage</c> setting, in either of
/// the forms the Functions host understands: a connection string (local, Azurite), or identity-based
/// <c>AzureWebJobsStorage__accountName</c> / <c>__blobServiceUri</c> / <c>__queueServiceUri</c> /
/// <c>__tableServiceUri</c> with <c>__credential=managedidentity</c> and <c>__clientId</c> (Azure).
/// </summary>
public sealed class StorageClients
{
    /// <param name="policies">
    /// Extra pipeline policies for every client, run once per attempt (after retries): used to count storage
    /// requests (the cost driver in Azure) and to inject faults in reliability tests. None in production.
    /// </param>
    /// <param name="connectionSetting">The setting naming the account: <c>AzureWebJobsStorage</c> (home, shard 0), or a shard's (<see cref="StorageNames.ShardConnectionSetting"/>).</param>
    public StorageClients(IConfiguration configuration, StorageOptions options, IEnumerable<HttpPipelinePolicy>? policies = null, string connectionSetting = StorageNames.ConnectionSetting)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var extra = policies?.ToArray() ?? [];
        ConnectionSetting = connectionSetting;
        var section = configuration.GetSection(connectionSetting);
        string? connectionString = section.Value;
        var queueOptions = Configure(new QueueClientOptions
        {
            // The Functions queue trigger reads base64 (host.json messageEncoding); QueueClient sends plain text unless told.
            MessageEncoding = QueueMessageEncoding.Base64,
        }, options, extra);
        var blobOptions = Configure(new BlobClientOptions(), options, extra);
        var tableOptions = Configure(new TableClientOptions(), options, extra);

        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            try
            {
                Queues = new QueueServiceClient(connectionString, queueOptions);
                Blobs = new BlobServiceClient(connectionString, blobOptions);
                Tables = new TableServiceClient(connectionString, tableOptions);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or UriFormatException)
            {
                // A configuration mistake, named as one (start-up check, CLI exit code 4), never a crash. The SDK's message is
                // left out: it may quote the connection string, and with it the account key.
                throw new Microsoft.Extensions.Options.OptionsValidationException(connectionSetting, typeof(StorageOptions),
                    [$"'{connectionSetting}' is not a valid storage connection string ({ex.GetType().Name}): check that AccountKey is the account's base64 key and that every endpoint is an absolute URL (for Azurite, the connection string scripts/run.sh prints)."]);
            }

            return;
        }

        string? account = section["accountName"];
        Uri? ServiceUri(string key, string kind) =>
            section[key] is { Length: > 0 } uri ? new Uri(uri)
            : account is { Length: > 0 } ? new Uri($"https://{account}.{kind}.core.windows.net")
            : null;

        Uri blobUri = ServiceUri("blobServiceUri", "blob") ?? throw Missing(connectionSetting);
        Uri queueUri = ServiceUri("queueServiceUri", "queue") ?? throw Missing(connectionSetting);
        Uri tableUri = ServiceUri("tableServiceUri", "table") ?? throw Missing(connectionSetting);
        TokenCredential credential = string.Equals(section["credential"], "managedidentity", StringComparison.OrdinalIgnoreCase)
            ? new ManagedIdentityCredential(section["clientId"] is { Length: > 0 } id ? ManagedIdentityId.FromUserAssignedClientId(id) : ManagedIdentityId.SystemAssigned)
            : new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = section["clientId"] });
        Queues = new QueueServiceClient(queueUri, credential, queueOptions);
        Blobs = new BlobServiceClient(blobUri, credential, blobOptions);
        Tables = new TableServiceClient(tableUri, credential, tableOptions);
    }

    /// <summary>The setting these clients were made from.</summary>
    public string ConnectionSetting { get; }

    public QueueServiceClient Queues { get; }
    public BlobServiceClient Blobs { get; }
    public TableServiceClient Tables { get; }

    private static T Configure<T>(T clientOptions, StorageOptions options, HttpPipelinePolicy[] policies)
        where T : ClientOptions
    {
        foreach (var policy in policies)
        {
            clientOptions.AddPolicy(policy, HttpPipelinePosition.PerRetry);
        }

        clientOptions.Retry.MaxRetries = options.MaxRetries;
        clientOptions.Retry.NetworkTimeout = options.NetworkTimeout;
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        return clientOptions;
    }

    private static InvalidOperationException Missing(string setting) => new(
        $"Storage is not configured: set '{setting}' to a connection string, or " +
        $"'{setting}__accountName' (or the __blobServiceUri, __queueServiceUri and __tableServiceUri settings) for identity-based access.");
}
