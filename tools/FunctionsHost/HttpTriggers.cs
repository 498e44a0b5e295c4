using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace FunctionsHost;

/// <summary>
/// The public side: one ASP.NET Core endpoint per HTTP trigger, at <c>{routePrefix}/{route}</c> with the trigger's
/// methods (so templates such as <c>mailgun/{tenant}/events</c> match and fill route values by ASP.NET Core's own
/// routing, as in the real host), the key check of the trigger's auth level, then the request forwarded to the
/// worker's own Kestrel with <c>x-ms-invocation-id</c> while the matching invocation goes over gRPC. Plus the
/// admin API's <c>POST /admin/functions/{name}</c>.
/// </summary>
internal static class HttpTriggers
{
    /// <summary>The header that ties the forwarded request to its invocation in the worker.</summary>
    public const string InvocationHeader = "x-ms-invocation-id";

    /// <summary>The real host's limit on request bodies (the app sets smaller ones itself).</summary>
    private const long MaxRequestBodyBytes = 100L * 1024 * 1024;

    /// <summary>Azure's front end ends HTTP invocations after 230 s.</summary>
    private static readonly TimeSpan HttpTimeout = TimeSpan.FromSeconds(230);

    private static readonly TimeSpan ForwardFailureGrace = TimeSpan.FromSeconds(5);

    public static WebApplication Build(StandInHost host, Uri? workerHttp, int port, ILoggerFactory loggers)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
            kestrel.Listen(IPAddress.Loopback, port);
        });
        builder.Services.AddHttpForwarder();
        var app = builder.Build();
        var logger = loggers.CreateLogger("FunctionsHost.Http");
        var forwarder = app.Services.GetRequiredService<IHttpForwarder>();
        var toWorker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        });

        foreach (var function in host.Functions.Where(f => f.Kind == TriggerKind.Http))
        {
            string template = "/" + string.Join('/', new[] { host.HostJson.RoutePrefix, function.Route }.Where(s => s.Length > 0));
            var endpoint = app.Map(template, context => ForwardAsync(host, function, context, forwarder, toWorker, workerHttp!, logger));
            if (function.HttpMethods.Count > 0)
            {
                endpoint.WithMetadata(new HttpMethodMetadata(function.HttpMethods));
            }

            endpoint.WithDisplayName(function.Name);
        }

        app.MapPost("/admin/functions/{name}", context => AdminInvokeAsync(host, context));
        return app;
    }

    private static async Task ForwardAsync(StandInHost host, HostedFunction function, HttpContext context, IHttpForwarder forwarder, HttpMessageInvoker toWorker, Uri workerHttp, ILogger logger)
    {
        if (host.Keys is { } keys && !keys.Allows(function.AuthLevel, function.Name, PresentedKey(context.Request)))
        {
            // As the real host: 401 with no body, before the worker hears of the request.
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        string invocationId = Guid.NewGuid().ToString();
        var (input, metadata) = TriggerData.Http(function, context.Request);
        // Not tied to the host's stop: a stop lets requests in flight finish (Kestrel's own shutdown deadline bounds them).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(HttpTimeout);
        // The invocation goes first: the worker's middleware waits for it to pair the forwarded request with.
        var invocation = host.InvokeAsync(function, "This function was programmatically called via the host APIs.", input, metadata, invocationId,
            detail: $"{context.Request.Method} {function.Route}", cancellationToken: timeout.Token);
        var error = await forwarder.SendAsync(context, workerHttp.GetLeftPart(UriPartial.Authority), toWorker,
            new ForwarderRequestConfig { ActivityTimeout = HttpTimeout }, new InvocationTransformer(invocationId)).ConfigureAwait(false);
        if (error != ForwarderError.None && !invocation.IsCompleted)
        {
            // The worker may never have seen the request its invocation waits for: give it a moment, then cancel.
            timeout.CancelAfter(ForwardFailureGrace);
        }

        var record = await invocation.ConfigureAwait(false);
        if (error != ForwarderError.None)
        {
            string detail = context.Features.Get<IForwarderErrorFeature>()?.Exception?.Message ?? error.ToString();
            StandInLog.ForwardFailed(logger, function.Name, detail);
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            }
        }
        else if (!record.Succeeded && !context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        }
    }

    /// <summary><c>POST /admin/functions/{name}</c> with <c>{"input": "..."}</c>: runs a non-HTTP function now; 202 at once, as the real host answers.</summary>
    private static async Task AdminInvokeAsync(StandInHost host, HttpContext context)
    {
        if (host.Keys is { } keys && !keys.IsMaster(PresentedKey(context.Request)))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        string name = (string)context.Request.RouteValues["name"]!;
        var function = host.Functions.FirstOrDefault(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (function is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (function.Kind is not (TriggerKind.Timer or TriggerKind.Queue))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"{function.Name} has a {function.TriggerType} trigger: call it at its route.").ConfigureAwait(false);
            return;
        }

        string? input = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                input = (string?)(await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false))?["input"];
            }
            catch (JsonException ex)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsync("The body must be JSON like {\"input\": \"...\"}: " + ex.Message).ConfigureAwait(false);
                return;
            }
        }

        host.Track(Task.Run(() => host.RunNowAsync(function, input, host.Stopping)));
        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    private static string? PresentedKey(HttpRequest request) =>
        request.Headers[FunctionKeys.HeaderName].FirstOrDefault() is { Length: > 0 } header ? header : request.Query[FunctionKeys.QueryName].FirstOrDefault();

    /// <summary>Forwards the request unchanged (path, query, headers, body) and adds the invocation id; a client's own copy of that header is dropped.</summary>
    private sealed class InvocationTransformer(string invocationId) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            proxyRequest.Headers.Remove(InvocationHeader);
            proxyRequest.Headers.TryAddWithoutValidation(InvocationHeader, invocationId);
        }
    }
}
