using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Api;

/// <summary>An answer of the platform's API, for the thin HTTP functions to write: status, content type and body.</summary>
public sealed record ApiResponse(int StatusCode, string ContentType, string Body)
{
    public const string Json = "application/json; charset=utf-8";

    /// <summary>RFC 9457.</summary>
    public const string ProblemJson = "application/problem+json; charset=utf-8";

    public static ApiResponse Ok(JToken body) => new(200, Json, body.ToString(Formatting.None));

    /// <summary>
    /// An RFC 9457 problem: <c>type</c> names the problem (a URN: the type is an identifier, not a page to fetch), <c>title</c>
    /// says it in general, <c>detail</c> for this occurrence, <c>instance</c> the request path; extension members add facts.
    /// </summary>
    public static ApiResponse Problem(int status, string type, string title, string detail, string instance, JObject? extensions = null)
    {
        var body = new JObject
        {
            ["type"] = ProblemTypePrefix + type,
            ["title"] = title,
            ["status"] = status,
            ["detail"] = detail,
            ["instance"] = instance,
        };
        if (extensions is not null)
        {
            foreach (var property in extensions.Properties())
            {
                body[property.Name] = property.Value;
            }
        }

        return new ApiResponse(status, ProblemJson, body.ToString(Formatting.None));
    }

    public const string ProblemTypePrefix = "urn:mailgun-functions:problem:";

    public bool IsProblem => ContentType == ProblemJson;
}
