using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Testing;

/// <summary>
/// Sending, <c>POST /v3/{domain}/messages</c> (form from, to, subject, text): the message is recorded and, like Mailgun's
/// receiving side, every route of the domain's account whose <c>match_recipient("regex")</c> matches the recipient runs
/// in priority order: each <c>forward("url")</c> gets the parsed message posted (a route post signed with the account's
/// webhook signing key, as Mailgun signs it), and <c>stop()</c> ends the run. Forwarding happens after the answer, as at
/// Mailgun; <see cref="Forwarded"/> records each post and its answer.
/// </summary>
public sealed partial class MailgunFake
{
    private readonly ConcurrentQueue<JObject> _messages = new();
    private readonly ConcurrentQueue<(string Url, int Status)> _forwarded = new();

    /// <summary>The messages sent through the fake (from, to, subject, text, id).</summary>
    public IReadOnlyList<JObject> Messages => _messages.ToArray();

    /// <summary>Each route post the fake made: the forward URL and the status it got (0 when it could not connect).</summary>
    public IReadOnlyList<(string Url, int Status)> Forwarded => _forwarded.ToArray();

    private void ResetMessages()
    {
        _messages.Clear();
        _forwarded.Clear();
    }

    private async Task<int> SendMessageAsync(HttpContext context, string domain)
    {
        var form = await context.Request.ReadFormAsync();
        string to = form["to"].ToString(), from = form["from"].ToString();
        if (to.Length == 0 || from.Length == 0)
        {
            return await WriteAsync(context, HttpStatusCode.BadRequest, new JObject { ["message"] = "'from' and 'to' parameters are missing" });
        }

        string id = $"<{Guid.NewGuid():N}@{domain}>";
        var message = new JObject { ["id"] = id, ["from"] = from, ["to"] = to, ["subject"] = form["subject"].ToString(), ["text"] = form["text"].ToString() };
        _messages.Enqueue(message);
        var account = _domainOwners.GetValueOrDefault(domain) ?? AccountOf(context) ?? _defaultAccount;
        List<JObject> routes;
        lock (_gate)
        {
            routes = account.Routes.Select(r => (JObject)r.DeepClone()).OrderBy(r => (int?)r["priority"] ?? 0).ToList();
        }

        _ = Task.Run(() => ForwardAsync(routes, message, account.SigningKey));
        return await WriteAsync(context, HttpStatusCode.OK, new JObject { ["id"] = id, ["message"] = "Queued. Thank you." });
    }

    private async Task ForwardAsync(List<JObject> routes, JObject message, string signingKey)
    {
        string to = (string)message["to"]!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var route in routes)
        {
            var match = Regex.Match((string?)route["expression"] ?? "", "^match_recipient\\(\"(.*)\"\\)$");
            if (!match.Success || !Regex.IsMatch(to, "^" + match.Groups[1].Value + "$", RegexOptions.IgnoreCase))
            {
                continue;
            }

            foreach (string action in (route["actions"] as JArray ?? []).Select(a => (string?)a).OfType<string>())
            {
                if (action == "stop()")
                {
                    return;
                }

                if (action.StartsWith("forward(\"", StringComparison.Ordinal) && action.EndsWith("\")", StringComparison.Ordinal))
                {
                    string url = action[9..^2];
                    var fields = InboundPost.Signed(
                        InboundPost.ParsedReply(from: (string)message["from"]!, recipient: to, subject: (string)message["subject"]!, bodyPlain: (string)message["text"]!,
                            strippedText: (string)message["text"]!, inReplyTo: "", messageId: (string)message["id"]!),
                        DateTimeOffset.UtcNow, key: signingKey);
                    try
                    {
                        using var content = new FormUrlEncodedContent(fields);
                        using var response = await http.PostAsync(new Uri(url), content);
                        _forwarded.Enqueue((url, (int)response.StatusCode));
                    }
                    catch (HttpRequestException)
                    {
                        _forwarded.Enqueue((url, 0));
                    }
                }
            }
        }
    }
}
