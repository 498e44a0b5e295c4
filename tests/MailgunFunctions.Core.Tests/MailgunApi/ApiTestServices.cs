using System.Globalization;
using MailgunFunctions.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.MailgunApi;

/// <summary>
/// Service providers built with the app's own registration (AddMailgunCore) pointed at the Mailgun fakes.
/// Real time: retry waits are real, so tests keep them to milliseconds through the options.
/// </summary>
internal static class ApiTestServices
{
    public static Dictionary<string, string?> Settings(MailgunFake us, MailgunFake eu, params (string Name, string Region)[] domains)
    {
        var settings = new Dictionary<string, string?>
        {
            ["MailgunApi:UsBaseUrl"] = us.BaseUrl.AbsoluteUri,
            ["MailgunApi:EuBaseUrl"] = eu.BaseUrl.AbsoluteUri,
            ["MailgunApi:RetryBaseDelay"] = "00:00:00.010",
            ["MailgunApi:MaxRetryDelay"] = "00:00:02",
            ["MailgunApi:MaxRetryAttempts"] = "4",
            ["MailgunApi:AttemptTimeout"] = "00:00:10",
            // A single-account install (no registry): the shared Azurite holds other tests' registry tenants, which the
            // export would otherwise also run against the fake.
            ["Tenants:KeyEncryptionKeys:k1"] = "",
        };
        for (int i = 0; i < domains.Length; i++)
        {
            settings[$"MailgunApi:Domains:{i}:Name"] = domains[i].Name;
            settings[$"MailgunApi:Domains:{i}:Region"] = domains[i].Region;
        }

        return settings;
    }

    public static ServiceProvider Build(string storageConnectionString, IDictionary<string, string?> settings, CapturedLogs? logs = null, Action<IServiceCollection>? extra = null)
    {
        IConfiguration configuration = TestSettings.Configuration(storageConnectionString, settings);
        var services = new ServiceCollection();
        services.AddLogging(b =>
        {
            b.SetMinimumLevel(LogLevel.Trace);
            if (logs is not null)
            {
                b.AddProvider(logs);
            }
        });
        services.AddMailgunCore(configuration);
        extra?.Invoke(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public static JObject Bounce(string address, object code, string error = "550 5.1.1 No such user", DateTimeOffset? at = null) => new()
    {
        ["address"] = address,
        ["code"] = JToken.FromObject(code),
        ["error"] = error,
        ["created_at"] = Rfc2822(at ?? new DateTimeOffset(2021, 1, 1, 10, 0, 0, TimeSpan.Zero)),
    };

    public static JObject Complaint(string address, DateTimeOffset? at = null) => new()
    {
        ["address"] = address,
        ["created_at"] = Rfc2822(at ?? new DateTimeOffset(2021, 1, 2, 10, 0, 0, TimeSpan.Zero)),
    };

    public static JObject Unsubscribe(string address, params string[] tags) => new()
    {
        ["address"] = address,
        ["tags"] = new JArray(tags),
        ["created_at"] = Rfc2822(new DateTimeOffset(2021, 1, 3, 10, 0, 0, TimeSpan.Zero)),
    };

    public static JObject Allow(string value, string type = "address", string reason = "VIP") => new()
    {
        ["value"] = value,
        ["type"] = type,
        ["reason"] = reason,
        ["createdAt"] = Rfc2822(new DateTimeOffset(2021, 1, 4, 10, 0, 0, TimeSpan.Zero)),
    };

    /// <summary>Mailgun's date format: "Fri, 01 Jan 2021 10:00:00 UTC".</summary>
    public static string Rfc2822(DateTimeOffset at) => at.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static IEnumerable<JObject> Bounces(int count, string domain = "example.net") =>
        Enumerable.Range(0, count).Select(i => Bounce($"user{i:D6}@{domain}", i % 2 == 0 ? "550" : 554));
}
