using System.Collections.Concurrent;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Dnd;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Testing;

/// <summary>How the receiver answers.</summary>
public enum ReceiverMode
{
    /// <summary>Verifies and records, 204.</summary>
    Accept,
    /// <summary>500 without recording (a platform that is down).</summary>
    Fail,
    /// <summary>Holds the request until the caller gives up (a platform that times out).</summary>
    Hang,
}

/// <summary>One notification the receiver verified and took.</summary>
public sealed record ReceivedNotice(string Tenant, string Id, string AddressHash, long Version, string Body, DndNotice Notice);

/// <summary>
/// The platform's side in tests: a real HTTP server (Kestrel on 127.0.0.1, a free port) that does what docs/change-feed.md
/// tells a receiver to do: check the timestamp is fresh and the HMAC matches (401 otherwise), then keep per address only
/// versions above the highest it applied (repeats and stale ones are dropped, yet answered 2xx, so they are not retried).
/// </summary>
public sealed class NotificationReceiver : IAsyncDisposable
{
    private LoopbackServer _server = null!;
    private readonly ConcurrentDictionary<string, string> _secrets = new(StringComparer.Ordinal);
    private readonly Func<DateTimeOffset> _now;
    private readonly Lock _gate = new();
    private readonly List<ReceivedNotice> _accepted = [];
    private readonly List<ReceivedNotice> _applied = [];
    private readonly Dictionary<string, long> _highest = new(StringComparer.Ordinal);
    private int _rejected;
    private int _failedOrHung;

    private NotificationReceiver(Func<DateTimeOffset> now)
    {
        _now = now;
    }

    public Uri Url { get; private set; } = null!;

    public ReceiverMode Mode { get; set; } = ReceiverMode.Accept;

    /// <summary>Every verified notice taken (repeats included), in arrival order.</summary>
    public IReadOnlyList<ReceivedNotice> Accepted
    {
        get { lock (_gate) { return _accepted.ToList(); } }
    }

    /// <summary>What a receiver that drops repeats and stale versions applied, in arrival order.</summary>
    public IReadOnlyList<ReceivedNotice> Applied
    {
        get { lock (_gate) { return _applied.ToList(); } }
    }

    /// <summary>Requests refused for a bad or stale signature.</summary>
    public int Rejected => Volatile.Read(ref _rejected);

    /// <summary>Requests answered 500 or left hanging.</summary>
    public int FailedOrHung => Volatile.Read(ref _failedOrHung);

    /// <summary>The versions a receiver applied per address, in the order it applied them.</summary>
    public Dictionary<string, List<long>> AppliedVersionsByAddress()
    {
        lock (_gate)
        {
            return _applied.GroupBy(r => r.Tenant + "|" + r.AddressHash).ToDictionary(g => g.Key, g => g.Select(r => r.Version).ToList());
        }
    }

    public void SetSecret(string tenant, string secret) => _secrets[tenant] = secret;

    public static async Task<NotificationReceiver> StartAsync(Func<DateTimeOffset> now)
    {
        var receiver = new NotificationReceiver(now);
        receiver._server = await LoopbackServer.StartAsync(receiver.HandleAsync);
        receiver.Url = new Uri(receiver._server.BaseUrl, "dnd-changes");
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        byte[] body = buffer.ToArray();
        switch (Mode)
        {
            case ReceiverMode.Fail:
                Interlocked.Increment(ref _failedOrHung);
                context.Response.StatusCode = 500;
                return;
            case ReceiverMode.Hang:
                Interlocked.Increment(ref _failedOrHung);
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }

                return;
        }

        string tenant = context.Request.Headers[NotificationSignature.TenantHeader].ToString();
        if (!_secrets.TryGetValue(tenant, out var secret)
            || !NotificationSignature.Verify(secret, context.Request.Headers[NotificationSignature.TimestampHeader], context.Request.Headers[NotificationSignature.SignatureHeader],
                body, _now(), NotificationSignature.RecommendedTolerance))
        {
            Interlocked.Increment(ref _rejected);
            context.Response.StatusCode = 401;
            return;
        }

        var notice = DndNotice.FromJson(System.Text.Encoding.UTF8.GetString(body));
        var received = new ReceivedNotice(notice.Tenant, notice.Id, notice.AddressHash, notice.Version, System.Text.Encoding.UTF8.GetString(body), notice);
        lock (_gate)
        {
            _accepted.Add(received);
            string key = notice.Tenant + "|" + notice.AddressHash;
            if (notice.Version > _highest.GetValueOrDefault(key))
            {
                _highest[key] = notice.Version;
                _applied.Add(received);
            }
        }

        context.Response.StatusCode = 204;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
