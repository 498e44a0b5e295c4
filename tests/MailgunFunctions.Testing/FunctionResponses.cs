using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace MailgunFunctions.Testing;

/// <summary>
/// Writes what an HTTP function class returned to a Kestrel response, for local hosts of the function classes
/// (tests and load harnesses): the Functions host is not available here. The app's functions return ContentResult only.
/// </summary>
public static class FunctionResponses
{
    public static Task WriteAsync(HttpContext context, IActionResult result)
    {
        var content = result as ContentResult ?? throw new InvalidOperationException($"unexpected result type {result.GetType().Name}");
        context.Response.StatusCode = content.StatusCode ?? 200;
        context.Response.ContentType = content.ContentType;
        return context.Response.WriteAsync(content.Content ?? "");
    }
}
