using Microsoft.Extensions.Configuration;
using MailgunFunctions.Inbound;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Testing;

/// <summary>Configuration and service providers for tests, built with the app's own registration code.</summary>
public static class TestSettings
{
    /// <summary>Signing key "primary": the key of vector V1 in SignatureVerifierTests.</summary>
    public const string SigningKey = "key-7f3c0e1d9a2b4c5d6e7f8091a2b3c4d5";

    /// <summary>A second key, as during a rotation.</summary>
    public const string NextSigningKey = "key-next-0000000000000000000000000000";

    public const string ApiKey = "api-key-not-a-signing-key-123456";

    /// <summary>The tenant registry's key-encryption key "k1" (at least 32 characters of random text in production).</summary>
    public const string KeyEncryptionKey = "test-kek-0123456789abcdef0123456789abcdef";

    public static Dictionary<string, string?> Defaults(string storageConnectionString) => new()
    {
        ["AzureWebJobsStorage"] = storageConnectionString,
        ["Mailgun:SigningKeys:primary"] = SigningKey,
        ["Mailgun:SigningKeys:next"] = NextSigningKey,
        ["Mailgun:ApiKey"] = ApiKey,
        ["Tenants:KeyEncryptionKeys:k1"] = KeyEncryptionKey,
        // Fail fast in tests that point at storage which is down (refused at once: no retries). The timeout is for one
        // answer of a live Azurite, which on a loaded 2-core machine can stall for several seconds: a stall is no failure.
        ["Storage:MaxRetries"] = "0",
        ["Storage:NetworkTimeout"] = "00:00:30",
    };

    public static IConfiguration Configuration(string storageConnectionString, IDictionary<string, string?>? overrides = null)
    {
        var values = Defaults(storageConnectionString);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    /// <summary>Recording doubles for what replies do to DND and for the sent-message lookup (tests of inbound parsing alone).</summary>
    public static void RecordReplySeams(IServiceCollection services)
    {
        services.AddSingleton<IReplyDndActions, RecordingReplyDndActions>();
        services.AddSingleton<IOutboundMessageLookup, KnownOutboundMessages>();
    }

    /// <summary>The tenant made from <see cref="Defaults"/> (the single-account settings): what the URLs without a tenant serve.</summary>
    public static MailgunFunctions.Tenants.ResolvedTenant SingleAccount(IServiceProvider services) =>
        services.GetRequiredService<MailgunFunctions.Tenants.TenantDirectory>().Implicit
        ?? throw new InvalidOperationException("the settings make no single-account tenant (no Mailgun signing key, API key or domain)");

    /// <summary>
    /// Builds a service provider the way the app does: <paramref name="register"/> is the app's registration
    /// extension. Time is usually a <see cref="FakeTimeProvider"/>; logs go to <paramref name="logs"/> when given.
    /// </summary>
    public static ServiceProvider Services(
        IConfiguration configuration,
        Action<IServiceCollection, IConfiguration> register,
        TimeProvider time,
        CapturedLogs? logs = null,
        Action<IServiceCollection>? before = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(b =>
        {
            b.SetMinimumLevel(LogLevel.Trace);
            if (logs is not null)
            {
                b.AddProvider(logs);
            }
        });
        services.AddSingleton<TimeProvider>(time);
        // Registered before the app's own services, so the app's TryAdd registrations leave these doubles in place.
        before?.Invoke(services);
        register(services, configuration);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
