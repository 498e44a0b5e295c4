using MailgunFunctions.App;
using MailgunFunctions.Dnd;
using MailgunFunctions.PlatformUnsubscribe;
using MailgunFunctions.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Tests.PlatformUnsubscribe;

/// <summary>
/// A local host of the unsubscribe function class on Kestrel (127.0.0.1), routed as the Functions host routes it
/// (<c>/api/unsubscribe/{token}</c>), over the app's own container and real storage.
/// </summary>
public sealed class UnsubscribeHost : IAsyncDisposable
{
    public const string LinkKey = "k1-test-0123456789abcdef0123456789abcd";
    private readonly WebApplication _app;

    private UnsubscribeHost(WebApplication app, FakeTimeProvider time)
    {
        _app = app;
        Time = time;
    }

    public FakeTimeProvider Time { get; }
    public string BaseUrl => _app.Urls.First() + "/api/unsubscribe";
    public IServiceProvider Services => _app.Services;
    public DndStore Store => _app.Services.GetRequiredService<DndStore>();

    public static async Task<UnsubscribeHost> StartAsync(string storage, DateTimeOffset now)
    {
        var time = new FakeTimeProvider(now);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<TimeProvider>(time);
        var configuration = TestSettings.Configuration(storage, new Dictionary<string, string?>
        {
            ["Unsubscribe:Keys:k1"] = LinkKey,
            ["Unsubscribe:ActiveKeyId"] = "k1",
            ["Unsubscribe:BaseUrl"] = "http://127.0.0.1/api/unsubscribe",
        });
        builder.Services.AddMailgunFunctions(configuration);
        var app = builder.Build();
        var functions = ActivatorUtilities.CreateInstance<UnsubscribeLinkFunctions>(app.Services);
        app.MapGet("/api/unsubscribe/{token}", async (HttpContext c, string token) => await FunctionResponses.WriteAsync(c, await functions.ShowAsync(c.Request, token, c.RequestAborted)));
        app.MapPost("/api/unsubscribe/{token}", async (HttpContext c, string token) => await FunctionResponses.WriteAsync(c, await functions.PostAsync(c.Request, token, c.RequestAborted)));
        app.MapPost("/api/unsubscribe/{token}/undo", async (HttpContext c, string token) => await FunctionResponses.WriteAsync(c, await functions.UndoAsync(c.Request, token, c.RequestAborted)));
        await app.StartAsync();
        return new UnsubscribeHost(app, time);
    }

    /// <summary>A link made by the library call the sending side uses, pointed at this host.</summary>
    public string LinkFor(string tenant, string address, string? contactId = "c-1")
    {
        var link = _app.Services.GetRequiredService<UnsubscribeLinks>().Create(tenant, address, contactId);
        return BaseUrl + "/" + link.Url.Segments.Last();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
