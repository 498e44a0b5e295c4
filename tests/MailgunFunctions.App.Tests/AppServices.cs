using MailgunFunctions.App;
using MailgunFunctions.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Tests;

/// <summary>The app's real container (the same AddMailgunFunctions that Program.cs calls) over the given storage.</summary>
public sealed class AppServices : IDisposable
{
    /// <param name="before">Services registered before the app's (e.g. an <c>HttpPipelinePolicy</c> that StorageClients adds to every client).</param>
    public AppServices(string storageConnectionString, DateTimeOffset now, IDictionary<string, string?>? overrides = null, bool recordReplySeams = false,
        Action<IServiceCollection>? before = null)
    {
        Time = new FakeTimeProvider(now);
        Configuration = TestSettings.Configuration(storageConnectionString, overrides);
        Provider = TestSettings.Services(Configuration, (s, c) => s.AddMailgunFunctions(c), Time, Logs, s =>
        {
            if (recordReplySeams)
            {
                TestSettings.RecordReplySeams(s);
            }

            before?.Invoke(s);
        });
    }

    public FakeTimeProvider Time { get; }
    public IConfiguration Configuration { get; }
    public CapturedLogs Logs { get; } = new();
    public ServiceProvider Provider { get; }

    /// <summary>Creates a function class the way the Functions worker does: constructor injection from the container.</summary>
    public T Function<T>() => ActivatorUtilities.CreateInstance<T>(Provider);

    public T Get<T>() where T : notnull => Provider.GetRequiredService<T>();

    private readonly HashSet<string> _tenants = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers tenant <paramref name="id"/> with <paramref name="domains"/>, signing with <see cref="TestSettings.SigningKey"/> (as
    /// <see cref="SignedWebhook"/> and <see cref="InboundPost"/> sign by default), once per instance.
    /// </summary>
    public async Task RegisterTenantAsync(string id, params string[] domains)
    {
        if (_tenants.Add(id))
        {
            await TestTenants.RegisterAsync(Provider, id, TestSettings.SigningKey, domains);
        }
    }

    public static HttpRequest Post(string body, string contentType = "application/json", bool sendContentLength = true) =>
        Post(System.Text.Encoding.UTF8.GetBytes(body), contentType, sendContentLength);

    public static HttpRequest Post(byte[] body, string? contentType = "application/json", bool sendContentLength = true)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/api/mailgun/events";
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(body);
        if (sendContentLength)
        {
            context.Request.ContentLength = body.Length;
        }

        return context.Request;
    }

    public void Dispose() => Provider.Dispose();
}
