using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Settings;
using MailgunFunctions.Signatures;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Options;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunOps;

/// <summary>
/// <c>webhook send-sample</c>: posts one event webhook, signed as Mailgun signs it, to a running app (the local host,
/// or a deployed one), so the whole path can be tried without Mailgun: signature, token store, queue, processing.
/// </summary>
public static class WebhookCommands
{
    public const string DefaultUrl = "http://127.0.0.1:7071/api/mailgun/events";

    private static readonly string[] EventTypes = ["failed", "delivered", "complained", "unsubscribed", "opened", "clicked"];

    public static Command Build(OpsRuntime runtime)
    {
        var url = new Option<string>("--url") { Description = $"The events webhook URL (default {DefaultUrl}).", DefaultValueFactory = _ => DefaultUrl };
        url.Validators.Add(r =>
        {
            if (!Uri.TryCreate(r.GetValueOrDefault<string>(), UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps))
            {
                r.AddError("--url must be an absolute http or https URL.");
            }
        });
        var eventType = new Option<string>("--event") { Description = "Event type: " + string.Join(", ", EventTypes) + ".", DefaultValueFactory = _ => "failed" };
        eventType.AcceptOnlyFromAmong(EventTypes);
        var severity = new Option<string>("--severity") { Description = "For failed: permanent or temporary.", DefaultValueFactory = _ => "permanent" };
        severity.AcceptOnlyFromAmong("permanent", "temporary");
        var recipient = new Option<string>("--recipient") { Description = "The recipient address.", DefaultValueFactory = _ => "sample.recipient@example.com" };
        var domain = new Option<string>("--domain") { Description = "The sending domain (the tenant).", DefaultValueFactory = _ => "mg.example.com" };
        var signingKey = new Option<string?>("--signing-key") { Description = "Webhook signing key (default: Mailgun__SigningKeys__primary, else the first key, from the environment or --settings)." };
        var tenant = new Option<string?>("--tenant")
        {
            Description = "Sign with this tenant's current key from the registry and post to its URL (…/api/mailgun/{tenant}/events on its app URL, else on the local host); the sample's domain is the tenant's.",
        };
        var functionKey = new Option<string?>("--function-key") { Description = "Function key, sent as x-functions-key (default: \"host\".\"default\" of --keys-file)." };
        var keysFile = new Option<FileInfo>("--keys-file") { Description = "The local host's keys file (tools/FunctionsHost).", DefaultValueFactory = _ => new FileInfo("local.keys.json") };
        var command = new Command("send-sample", "Post a sample event webhook, signed like Mailgun's, to a running app; prints the answer.")
        {
            url, eventType, severity, recipient, domain, signingKey, tenant, functionKey, keysFile,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, (ctx, token) => SendAsync(ctx, parse, token), ct));

        async Task<int> SendAsync(OpsContext ctx, ParseResult parse, CancellationToken token)
        {
            string key;
            string sendingDomain = parse.GetValue(domain)!;
            var target = new Uri(parse.GetValue(url)!);
            if (parse.GetValue(tenant) is { Length: > 0 } tenantId)
            {
                if (parse.GetValue(signingKey) is { Length: > 0 })
                {
                    throw new OpsException(ExitCodes.Usage, "--tenant signs with the tenant's own key: leave out --signing-key");
                }

                var t = await TenantOf(ctx, tenantId, token).ConfigureAwait(false);
                key = t.CurrentSigningKey?.Secret
                    ?? throw new OpsException(ExitCodes.Configuration, $"tenant '{t.Id}' has no signing key: connect it (mailgun-ops tenant connect) or rotate its key");
                if (parse.GetResult(domain) is null or { Implicit: true } && t.Domains is [var first, ..])
                {
                    sendingDomain = first.Name;
                }

                if (parse.GetResult(url) is null or { Implicit: true })
                {
                    // The tenant's URL: on its app when the registry knows it, else on the local host.
                    target = TenantUrls.Events(t.AppUrl ?? new Uri(new Uri(DefaultUrl).GetLeftPart(UriPartial.Authority)), t.Id);
                }
            }
            else
            {
                var keys = ctx.Get<IOptions<MailgunOptions>>().Value.Keys.ToList();
                key = parse.GetValue(signingKey) is { Length: > 0 } given ? given
                    : (keys.FirstOrDefault(k => k.Id == "primary") ?? keys.FirstOrDefault())?.Secret
                      ?? throw new OpsException(ExitCodes.Configuration, "no signing key: pass --signing-key or --tenant, or set Mailgun__SigningKeys__primary (environment or --settings file)");
            }

            string body = SignedBody(SampleEvent(parse.GetValue(eventType)!, parse.GetValue(severity)!, parse.GetValue(recipient)!, sendingDomain, ctx.Time.GetUtcNow()), key, ctx.Time.GetUtcNow());

            using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if ((parse.GetValue(functionKey) ?? HostKeyFrom(parse.GetValue(keysFile)!)) is { Length: > 0 } code)
            {
                request.Headers.Add("x-functions-key", code);
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, token).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw new OpsException(ExitCodes.Remote, $"{MailgunFunctions.UrlMask.Mask(request.RequestUri)}: {ex.Message} (is the app running? bash scripts/run.sh)");
            }

            using (response)
            {
                string answer = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (ctx.Output.Json)
                {
                    ctx.Output.Document(new { status, answer = TryParse(answer) });
                }
                else
                {
                    ctx.Output.Text($"{status} {answer}".TrimEnd());
                }

                if (status == 401 && answer.Length == 0)
                {
                    ctx.Output.Progress("the host refused the function key: pass --function-key, or run from the folder holding local.keys.json");
                }

                return response.IsSuccessStatusCode ? ExitCodes.Ok : ExitCodes.Remote;
            }
        }

        return new Command("webhook", "Try the app's webhooks without Mailgun.") { command };
    }

    /// <summary>The tenant from the registry (with its keys), or the single-account tenant from the settings.</summary>
    private static async Task<Tenant> TenantOf(OpsContext ctx, string tenantId, CancellationToken token)
    {
        string id = TenantId.Parse(tenantId) ?? throw new OpsException(ExitCodes.Usage, "--tenant: " + TenantId.Problem(tenantId));
        var directory = ctx.Get<TenantDirectory>();
        if (directory.Implicit is { } single && single.Id == id)
        {
            return single.Tenant;
        }

        var registry = ctx.Get<TenantRegistry>();
        if (!registry.Enabled)
        {
            throw new OpsException(ExitCodes.Configuration, $"the tenant registry is off: set '{TenantsOptions.Section}__KeyEncryptionKeys__k1' (environment or --settings file)");
        }

        return await registry.GetAsync(id, token).ConfigureAwait(false) ?? throw new OpsException(ExitCodes.NotFound, $"no tenant '{id}': see mailgun-ops tenant list");
    }

    /// <summary>A webhook body as Mailgun posts it: the event under "event-data", signed over timestamp and a fresh token.</summary>
    public static string SignedBody(JObject eventData, string signingKey, DateTimeOffset now)
    {
        string timestamp = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        // Mailgun's tokens are 50 random lowercase hex characters.
        string token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(25));
        return new JObject
        {
            ["signature"] = new JObject { ["timestamp"] = timestamp, ["token"] = token, ["signature"] = SignatureVerifier.Sign(signingKey, timestamp, token) },
            ["event-data"] = eventData,
        }.ToString(Formatting.None);
    }

    /// <summary>A minimal event of the type, with the fields the pipeline reads; failed events carry a 550 5.1.1 or a 452 4.2.2 answer.</summary>
    public static JObject SampleEvent(string type, string severity, string recipient, string domain, DateTimeOffset now)
    {
        var e = new JObject
        {
            ["event"] = type,
            ["id"] = "sample-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            ["timestamp"] = now.ToUnixTimeMilliseconds() / 1000d,
            ["recipient"] = recipient,
            ["envelope"] = new JObject { ["sender"] = $"bounce@{domain}", ["targets"] = recipient },
            ["message"] = new JObject { ["headers"] = new JObject { ["message-id"] = $"sample.{now.ToUnixTimeSeconds()}@{domain}", ["to"] = recipient, ["from"] = $"news@{domain}" } },
        };
        if (type == "failed")
        {
            bool permanent = severity == "permanent";
            e["severity"] = severity;
            e["reason"] = permanent ? "bounce" : "generic";
            e["delivery-status"] = new JObject
            {
                ["code"] = permanent ? 550 : 452,
                ["message"] = permanent ? "5.1.1 The email account that you tried to reach does not exist." : "4.2.2 The email account that you tried to reach is over quota.",
                ["attempt-no"] = 1,
            };
        }

        return e;
    }

    private static string? HostKeyFrom(FileInfo keysFile)
    {
        if (!keysFile.Exists)
        {
            return null;
        }

        try
        {
            return (string?)JObject.Parse(File.ReadAllText(keysFile.FullName)).SelectToken("host.default");
        }
        catch (JsonException ex)
        {
            throw new OpsException(ExitCodes.Configuration, $"{keysFile.FullName} is not JSON: {ex.Message}");
        }
    }

    private static JToken TryParse(string text)
    {
        try
        {
            return JToken.Parse(text);
        }
        catch (JsonException)
        {
            return text;
        }
    }
}
