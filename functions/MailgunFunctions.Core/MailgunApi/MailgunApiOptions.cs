using System.ComponentModel.DataAnnotations;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Settings;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.MailgunApi;

/// <summary>Mailgun's two API regions. Domains, suppressions and routes live in one region only.</summary>
public enum MailgunRegion
{
    /// <summary><c>https://api.mailgun.net</c>.</summary>
    Us,

    /// <summary><c>https://api.eu.mailgun.net</c>.</summary>
    Eu,
}

/// <summary>One sending domain the app reads from Mailgun's API.</summary>
public sealed class MailgunDomainOptions
{
    /// <summary>The sending domain as Mailgun names it, e.g. <c>mg.example.com</c>. Required.</summary>
    [Required]
    public string Name { get; set; } = "";

    /// <summary>Where the domain was created: <c>Us</c> or <c>Eu</c>. Default <c>Us</c>. An EU domain asked on the US host answers 401 or 404.</summary>
    public MailgunRegion Region { get; set; } = MailgunRegion.Us;
}

/// <summary>
/// Mailgun REST API settings (section "MailgunApi"). The API key itself is <c>Mailgun__ApiKey</c>
/// (<see cref="MailgunOptions.ApiKey"/>), shared with the rest of the app.
/// </summary>
public sealed class MailgunApiOptions
{
    public const string Section = "MailgunApi";

    /// <summary>
    /// The domains to export, e.g. <c>MailgunApi__Domains__0__Name=mg.example.com</c>, <c>MailgunApi__Domains__0__Region=Eu</c>.
    /// Default: none (the export then does nothing). Names must be unique.
    /// </summary>
    public List<MailgunDomainOptions> Domains { get; set; } = [];

    /// <summary>Base URL of the US region. Default <c>https://api.mailgun.net</c>; tests point it at a local fake.</summary>
    [Required]
    public Uri UsBaseUrl { get; set; } = new("https://api.mailgun.net");

    /// <summary>Base URL of the EU region. Default <c>https://api.eu.mailgun.net</c>; tests point it at a local fake.</summary>
    [Required]
    public Uri EuBaseUrl { get; set; } = new("https://api.eu.mailgun.net");

    /// <summary>Timeout of one HTTP attempt up to the response headers. Default 30 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest time to read one page body once its headers arrived. Default 2 minutes (1000 records are about 200 KB).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan PageReadTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Retries of one request on 429, 5xx, 408 and network errors. Default 6.</summary>
    [Range(0, 20)]
    public int MaxRetryAttempts { get; set; } = 6;

    /// <summary>First backoff delay; it doubles per retry, with jitter. Default 2 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Longest wait between two attempts, also the cap on a 429's retry hint (a hint of an hour would stall a
    /// timer run that has a time limit). Default 60 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Records per suppressions page. Default 1000, Mailgun's maximum.</summary>
    [Range(1, 1000)]
    public int SuppressionPageSize { get; set; } = 1000;

    /// <summary>Events per Events API page. Default 300, Mailgun's maximum for events.</summary>
    [Range(1, 300)]
    public int EventPageSize { get; set; } = 300;

    /// <summary>The base URL of a region.</summary>
    public Uri BaseUrlOf(MailgunRegion region) => region == MailgunRegion.Eu ? EuBaseUrl : UsBaseUrl;
}

/// <summary>
/// Checks what DataAnnotations cannot: domain names safe to use in URLs, blob paths and table keys, no duplicates,
/// absolute base URLs, and an API key whenever a domain is configured.
/// </summary>
public sealed class MailgunApiOptionsValidator(IOptions<MailgunOptions> account) : IValidateOptions<MailgunApiOptions>
{
    public ValidateOptionsResult Validate(string? name, MailgunApiOptions options)
    {
        var failures = new List<string>();
        foreach (var (url, setting) in new[] { (options.UsBaseUrl, "UsBaseUrl"), (options.EuBaseUrl, "EuBaseUrl") })
        {
            if (url is null || !url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            {
                failures.Add($"'{MailgunApiOptions.Section}__{setting}' must be an absolute http(s) URL.");
            }
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < options.Domains.Count; i++)
        {
            string domain = options.Domains[i].Name?.Trim() ?? "";
            if (!SendingDomain.IsValid(domain))
            {
                failures.Add($"'{MailgunApiOptions.Section}__Domains__{i}__Name' must be a domain name like mg.example.com (got '{domain}').");
            }
            else if (!seen.Add(domain))
            {
                failures.Add($"'{MailgunApiOptions.Section}__Domains__{i}__Name' repeats domain '{domain}'.");
            }

            if (!Enum.IsDefined(options.Domains[i].Region))
            {
                failures.Add($"'{MailgunApiOptions.Section}__Domains__{i}__Region' must be Us or Eu.");
            }
        }

        if (options.Domains.Count > 0 && string.IsNullOrWhiteSpace(account.Value.ApiKey))
        {
            failures.Add($"Mailgun domains are configured but '{MailgunOptions.Section}__ApiKey' is empty: set it to the private API key (Mailgun dashboard > API Security).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
