using MailgunFunctions.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace MailgunFunctions.App;

/// <summary>
/// The platform's DND API (docs/change-feed.md): function keys here (<c>x-functions-key</c>); in production put App Service
/// authentication (Entra ID) in front as well, as the docs describe. Every rule is in <see cref="DndApi"/>.
/// </summary>
public sealed class DndApiFunctions(DndApi api)
{
    [Function("DndGet")]
    public async Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "dnd/{tenant}/{address}")] HttpRequest request, string tenant, string address,
        CancellationToken cancellationToken) =>
        Answer(await api.GetAsync(tenant, address, PathOf(request), cancellationToken));

    [Function("DndChanges")]
    public async Task<IActionResult> ChangesAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "dnd/{tenant}")] HttpRequest request, string tenant,
        CancellationToken cancellationToken) =>
        Answer(await api.ChangesAsync(tenant, Query(request, "changedSince"), Query(request, "limit"), PathOf(request), cancellationToken));

    [Function("DndEnable")]
    public async Task<IActionResult> EnableAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "dnd/{tenant}/{address}/enable")] HttpRequest request, string tenant, string address,
        CancellationToken cancellationToken) =>
        Answer(await api.EnableAsync(tenant, address, request.Body, request.ContentLength, request.ContentType, PathOf(request), cancellationToken));

    private static string? Query(HttpRequest request, string name) => request.Query.TryGetValue(name, out var values) ? values.ToString() : null;

    private static string PathOf(HttpRequest request) => (request.PathBase + request.Path).ToString();

    private static ContentResult Answer(ApiResponse response) => new()
    {
        StatusCode = response.StatusCode,
        ContentType = response.ContentType,
        Content = response.Body,
    };
}
