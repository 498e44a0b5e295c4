using System.ComponentModel.DataAnnotations;

namespace MailgunFunctions.Storage;

/// <summary>
/// How the app's own storage clients behave (section "Storage"). The account itself comes from
/// <c>AzureWebJobsStorage</c>, shared with the Functions host.
/// </summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Retries of one storage request before giving up. Default 2: a webhook must answer within seconds, and Mailgun retries a 503 itself.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 2;

    /// <summary>Timeout of one storage request attempt. Default 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// K, the storage accounts that hold tenants' events and DND state (docs/scaling.md). Default 1: everything in
    /// <c>AzureWebJobsStorage</c>. Shard k &gt; 0 is the account in the setting <c>StorageShard{k}</c>; at most
    /// <see cref="StorageNames.MaxShards"/>.
    /// </summary>
    [Range(1, StorageNames.MaxShards)]
    public int Shards { get; set; } = 1;
}
