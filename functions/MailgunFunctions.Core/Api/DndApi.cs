using System.Globalization;
using System.Text;
using Azure;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Dnd;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Api;

/// <summary>
/// The platform's DND API (docs/change-feed.md, "API"), without the Functions host: every answer is an
/// <see cref="ApiResponse"/>, bad input an RFC 9457 problem with a 4xx, a dependency that fails a problem with 502/503.
/// Every call is scoped to the tenant in its path: entries, the change log and cursors are read and written in that
/// tenant's partition only, and a cursor of another tenant is refused, so one tenant's calls never see or change another's.
/// </summary>
public sealed class DndApi
{
    /// <summary>The re-enable body is a few hundred bytes; anything far bigger is refused unread.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    public const int HistoryLength = 10;
    public const int MaxOperatorLength = 128;

    private readonly TenantShards _shards;
    private readonly TenantDirectory _tenants;
    private readonly DndOptions _dnd;
    private readonly ChangeFeedOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DndApi> _logger;

    /// <param name="shards">The tenant's entries are read and changed in its own shard, with that shard's store, feed and re-enable flow.</param>
    public DndApi(TenantShards shards, TenantDirectory tenants, IOptions<DndOptions> dnd, IOptions<ChangeFeedOptions> options,
        TimeProvider time, ILogger<DndApi> logger)
    {
        _shards = shards;
        _tenants = tenants;
        _dnd = dnd.Value;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary><c>GET /api/dnd/{tenant}/{address}</c>: the state now, its cause, the latest notice and a short history.</summary>
    public Task<ApiResponse> GetAsync(string? tenant, string? address, string path, CancellationToken cancellationToken) =>
        GuardAsync("GET", path, tenant, async () =>
        {
            var (id, problem, shard) = await TenantAsync(tenant, path, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            string a = AddressOf(address);
            if (LookupProblem(a) is { } bad)
            {
                return ApiResponse.Problem(400, "address-invalid", "The address is not an email address", bad, path);
            }

            var (entry, announced, last) = await shard!.GetRequiredService<DndStore>().GetAnnouncedAsync(id!, a, cancellationToken).ConfigureAwait(false);
            var status = entry is null ? DndStatus.None : DndPolicy.Evaluate(entry, _time.GetUtcNow(), _dnd);
            var history = new JArray();
            if (entry is not null)
            {
                await foreach (var record in shard!.GetRequiredService<DndStore>().HistoryAsync(id!, a, cancellationToken).ConfigureAwait(false))
                {
                    history.Add(HistoryView(record));
                    if (history.Count == HistoryLength)
                    {
                        break;
                    }
                }
            }

            return ApiResponse.Ok(new JObject
            {
                ["tenant"] = id,
                ["address"] = DndKeys.NormalizeAddress(a),
                ["known"] = entry is not null,
                ["contactId"] = entry?.Context?.ContactId,
                ["state"] = DndNames.Of(status.State),
                ["locked"] = status.State == DndState.Locked,
                ["since"] = Time(status.Since),
                ["until"] = Time(status.Until),
                ["reason"] = status.Reason,
                ["version"] = announced.Version,
                ["lastChange"] = last is null ? null : JObject.Parse(last.ToJson()),
                ["history"] = history,
            });
        });

    /// <summary>
    /// <c>GET /api/dnd/{tenant}?changedSince=&lt;cursor or time&gt;&amp;limit=N</c>: the tenant's changes in the order they were
    /// recorded, a page at a time, with the cursor of the next page. Only changes older than ChangeFeed:SafetyMargin are
    /// returned, so a later page can never find one recorded before a cursor already given out.
    /// </summary>
    public Task<ApiResponse> ChangesAsync(string? tenant, string? changedSince, string? limit, string path, CancellationToken cancellationToken) =>
        GuardAsync("GET", path, tenant, async () =>
        {
            var (id, problem, shard) = await TenantAsync(tenant, path, cancellationToken).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            int pageSize = _options.PageSize;
            if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > 1000))
            {
                return ApiResponse.Problem(400, "limit-invalid", "The page size is not a number from 1 to 1000", $"limit '{Printable(limit)}' must be a number from 1 to 1000", path);
            }

            if (!DndChangeFeed.TryStart(id!, changedSince, out var start))
            {
                return ApiResponse.Problem(400, "cursor-invalid", "changedSince is not a cursor of this tenant or a time",
                    "changedSince must be the 'next' cursor of an earlier page of this tenant, or a UTC time like 2026-11-26T12:00:00Z", path);
            }

            var page = await shard!.GetRequiredService<DndChangeFeed>().ReadAsync(id!, start, pageSize, cancellationToken).ConfigureAwait(false);
            var changes = new JArray(page.Notices.Select(n => JObject.Parse(n.ToJson())));
            return ApiResponse.Ok(new JObject
            {
                ["tenant"] = id,
                ["changes"] = changes,
                ["next"] = page.Next,
                ["caughtUp"] = page.CaughtUp,
                ["horizon"] = Time(page.Horizon),
            });
        });

    /// <summary>
    /// <c>POST /api/dnd/{tenant}/{address}/enable</c> with <c>{"operator": "...", "note": "...", "overrideComplaint": false}</c>:
    /// the re-enable flow (<see cref="DndReenableFlow"/>), recorded as <c>api:&lt;operator&gt;</c> with the note. A locked
    /// (complaint) address is refused (409) unless <c>overrideComplaint</c> is true: an audited override, which the operator
    /// and the note name; an address the contact unsubscribed likewise needs <c>overrideUnsubscribe</c> (409 "unsubscribed").
    /// An address not in DND is answered 200 "already-clear" with nothing changed and Mailgun not called.
    /// </summary>
    public Task<ApiResponse> EnableAsync(string? tenant, string? address, Stream body, long? contentLength, string? contentType, string path, CancellationToken cancellationToken) =>
        GuardAsync("POST", path, tenant, async () =>
        {
            var (id, problem, shard) = await TenantAsync(tenant, path, cancellationToken, write: true).ConfigureAwait(false);
            if (problem is not null)
            {
                return problem;
            }

            if (contentType is null || !contentType.Split(';')[0].Trim().Equals("application/json", StringComparison.OrdinalIgnoreCase))
            {
                return ApiResponse.Problem(415, "unsupported-media-type", "The body must be JSON", "send Content-Type: application/json with {\"operator\": \"...\", \"note\": \"...\"}", path);
            }

            if (contentLength > MaxBodyBytes)
            {
                return ApiResponse.Problem(413, "body-too-large", "The body is too large", $"a re-enable body is at most {MaxBodyBytes} bytes", path);
            }

            var (request, bodyProblem) = await ReadEnableAsync(body, cancellationToken).ConfigureAwait(false);
            if (bodyProblem is not null)
            {
                return ApiResponse.Problem(bodyProblem == "body-too-large" ? 413 : 400, bodyProblem == "body-too-large" ? "body-too-large" : "body-invalid",
                    bodyProblem == "body-too-large" ? "The body is too large" : "The body is not a re-enable request",
                    bodyProblem == "body-too-large" ? $"a re-enable body is at most {MaxBodyBytes} bytes" : bodyProblem, path);
            }

            string a = AddressOf(address);
            if (MailAddressCheck.SyntaxProblem(a) is { } syntax)
            {
                return ApiResponse.Problem(400, "address-invalid", "The address is not a valid email address", syntax, path);
            }

            var resolved = (await _tenants.FindAsync(id, cancellationToken).ConfigureAwait(false))!;
            ReenableOutcome outcome;
            try
            {
                outcome = await shard!.GetRequiredService<DndReenableFlow>().EnableAsync(resolved.Tenant, a, "api:" + request!.Operator, request.Note,
                    (request.OverrideComplaint ? ReenableOverrides.Complaint : 0) | (request.OverrideUnsubscribe ? ReenableOverrides.Unsubscribe : 0), cancellationToken).ConfigureAwait(false);
            }
            catch (AddressCheckUnavailableException ex)
            {
                return ApiResponse.Problem(503, "dns-unavailable", "DNS could not answer", ex.Message + "; nothing was changed: try again", path);
            }
            catch (AddressValidationUnavailableException ex)
            {
                return ApiResponse.Problem(502, "mailgun-validation-unavailable", "Mailgun's email validation failed", ex.Message, path,
                    new JObject { ["validator"] = ReenableValidators.Mailgun });
            }
            catch (MailgunApiException ex) when (ex.IsMissingApiKey)
            {
                return ApiResponse.Problem(409, "tenant-not-connected", "The tenant has no Mailgun API key", "Mailgun's lists cannot be cleared without the tenant's API key; nothing was changed", path);
            }
            catch (MailgunApiException ex)
            {
                return ApiResponse.Problem(502, "mailgun-unavailable", "Mailgun's API failed", ex.Message + " The DND was not cleared; try again (lists already cleared stay cleared).", path);
            }

            var refused = outcome.Refusal switch
            {
                ReenableRefusal.None => null,
                ReenableRefusal.AlreadyClear => ApiResponse.Ok(new JObject
                {
                    ["tenant"] = id,
                    ["address"] = DndKeys.NormalizeAddress(a),
                    ["outcome"] = "already-clear",
                    ["previous"] = DndNames.Of(outcome.Status.State),
                    ["current"] = DndNames.Of(outcome.Status.State),
                    ["mailgunRemoved"] = new JObject(),
                    ["operator"] = request.Operator,
                }),
                ReenableRefusal.Unsubscribed => ApiResponse.Problem(409, "unsubscribed", "The contact unsubscribed",
                    outcome.Problem! + " Send overrideUnsubscribe: true with the operator and a note naming the consent.", path,
                    new JObject { ["unsubscribedAt"] = Time(outcome.OnlyAtMailgun ? null : outcome.Status.Since), ["onlyAtMailgun"] = outcome.OnlyAtMailgun }),
                ReenableRefusal.NotFound => ApiResponse.Problem(404, "entry-not-found", "No DND entry for the address", outcome.Problem!, path),
                ReenableRefusal.Locked or ReenableRefusal.LockedMeanwhile => ApiResponse.Problem(409, "locked-complaint", "The address is locked by a spam complaint",
                    outcome.Problem! + " Send overrideComplaint: true with the operator and a note naming the consent.", path,
                    new JObject { ["complainedAt"] = Time(outcome.OnlyAtMailgun ? null : outcome.Status.Since), ["onlyAtMailgun"] = outcome.OnlyAtMailgun }),
                ReenableRefusal.AddressInvalid => ApiResponse.Problem(400, "address-invalid", "The address is not a valid email address", outcome.Problem!, path),
                ReenableRefusal.CannotReceiveMail => ApiResponse.Problem(422, "address-cannot-receive-mail", "The address cannot receive mail", outcome.Problem! + "; nothing was changed", path,
                    new JObject { ["validation"] = Validation(outcome.Validation) }),
                _ => throw new InvalidOperationException(outcome.Refusal.ToString()),
            };
            if (refused is not null)
            {
                return refused;
            }

            if (outcome.OnlyAtMailgun)
            {
                // No entry here: Mailgun's lists were cleared, there was no DND to clear.
                return ApiResponse.Ok(new JObject
                {
                    ["tenant"] = id,
                    ["address"] = DndKeys.NormalizeAddress(a),
                    ["outcome"] = "cleared-at-mailgun",
                    ["previous"] = DndNames.Of(outcome.Status.State),
                    ["current"] = DndNames.Of(outcome.Status.State),
                    ["mailgunRemoved"] = JObject.FromObject(outcome.MailgunRemoved),
                    ["validation"] = Validation(outcome.Validation),
                    ["operator"] = request.Operator,
                    ["overrideComplaint"] = request.OverrideComplaint,
                    ["overrideUnsubscribe"] = request.OverrideUnsubscribe,
                });
            }

            var result = outcome.Result!;
            ChangeFeedLog.ApiReenabled(_logger, id!, DndNotice.HashOf(a), request.Operator, DndNames.Of(result.Outcome), request.OverrideComplaint);
            return ApiResponse.Ok(new JObject
            {
                ["tenant"] = id,
                ["address"] = DndKeys.NormalizeAddress(a),
                ["outcome"] = DndNames.Of(result.Outcome),
                ["previous"] = DndNames.Of(result.Previous.State),
                ["current"] = DndNames.Of(result.Current.State),
                ["version"] = result.Version,
                ["mailgunRemoved"] = JObject.FromObject(outcome.MailgunRemoved),
                ["validation"] = Validation(outcome.Validation),
                ["operator"] = request.Operator,
                ["overrideComplaint"] = request.OverrideComplaint,
                ["overrideUnsubscribe"] = request.OverrideUnsubscribe,
            });
        });

    /// <summary>Which validator decided and what it answered (Mailgun's result, risk and reasons).</summary>
    private static JToken Validation(ReenableValidation? v) => v is null ? JValue.CreateNull() : new JObject
    {
        ["validator"] = v.Validator,
        ["result"] = v.Result,
        ["risk"] = v.Risk,
        ["reasons"] = new JArray(v.Reasons),
    };

    private sealed record EnableRequest(string Operator, string Note, bool OverrideComplaint, bool OverrideUnsubscribe);

    private static async Task<(EnableRequest? Request, string? Problem)> ReadEnableAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxBodyBytes + 1];
        int length = 0, read;
        while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
        {
            length += read;
        }

        if (length > MaxBodyBytes)
        {
            return (null, "body-too-large");
        }

        JObject json;
        try
        {
            string text = new UTF8Encoding(false, true).GetString(buffer, 0, length);
            using var reader = new JsonTextReader(new StringReader(text)) { DateParseHandling = DateParseHandling.None, MaxDepth = 16 };
            json = JObject.Load(reader);
            if (reader.Read() && reader.TokenType != JsonToken.Comment)
            {
                return (null, "the body holds more than one JSON value");
            }
        }
        catch (Exception ex) when (ex is JsonException or DecoderFallbackException or ArgumentException)
        {
            return (null, "the body is not a JSON object: " + ex.Message.Split('\n', 2)[0]);
        }

        string? Text(string name, int max, out string? problem)
        {
            problem = null;
            var token = json[name];
            if (token is not JValue { Type: JTokenType.String } value || ((string?)value)?.Trim() is not { Length: > 0 } text)
            {
                problem = $"'{name}' is required: a non-empty string";
                return null;
            }

            if (text.Length > max || text.Any(char.IsControl))
            {
                problem = $"'{name}' must be at most {max} characters, without control characters";
                return null;
            }

            return text;
        }

        string? op = Text("operator", MaxOperatorLength, out string? opProblem);
        string? note = Text("note", DndChange.MaxMessageLength, out string? noteProblem);
        if ((opProblem ?? noteProblem) is { } invalid)
        {
            return (null, invalid);
        }

        bool? Flag(string name) => json[name] is not { } flag || flag.Type == JTokenType.Null ? false : flag.Type == JTokenType.Boolean ? (bool)flag : null;
        if (Flag("overrideComplaint") is not { } overrideComplaint)
        {
            return (null, "'overrideComplaint' must be true or false");
        }

        if (Flag("overrideUnsubscribe") is not { } overrideUnsubscribe)
        {
            return (null, "'overrideUnsubscribe' must be true or false");
        }

        return (new EnableRequest(op!, note!, overrideComplaint, overrideUnsubscribe), null);
    }

    /// <summary>
    /// Answers every dependency failure with a problem (503 storage, never a bare 500): the platform can tell "try again"
    /// from "wrong request". Refusals are logged without the address.
    /// </summary>
    private async Task<ApiResponse> GuardAsync(string method, string path, string? tenant, Func<Task<ApiResponse>> handle)
    {
        ApiResponse response;
        try
        {
            response = await handle().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RequestFailedException or DndWriteConflictException or AggregateException { InnerException: RequestFailedException or HttpRequestException }
            or TimeoutException)
        {
            response = ApiResponse.Problem(503, "storage-unavailable", "Storage is unavailable", "the DND store could not be reached; nothing was changed unless the answer said so: try again", path);
        }
        catch (ShardNotConfiguredException ex)
        {
            response = ApiResponse.Problem(503, "storage-unavailable", "Storage is unavailable", ex.Message + "; nothing was changed", path);
        }

        if (response.IsProblem)
        {
            ChangeFeedLog.ApiRefused(_logger, method, RouteOf(path), TenantId.Parse(tenant) ?? "(invalid)", response.StatusCode,
                JObject.Parse(response.Body)["type"]?.ToString()[ApiResponse.ProblemTypePrefix.Length..] ?? "");
        }

        return response;
    }

    /// <summary>The tenant's id and the services of its shard, or the problem to answer.</summary>
    /// <remarks>
    /// A write for a tenant being moved between shards (<c>tenant move</c>) is refused with 503 <c>tenant-moving</c>: it would land
    /// on the source shard after its rows were copied and be lost at the switch. Reads go on from the source, which is whole
    /// until the switch.
    /// </remarks>
    private async Task<(string? Id, ApiResponse? Problem, IServiceProvider? Shard)> TenantAsync(string? tenant, string path, CancellationToken cancellationToken, bool write = false)
    {
        if (TenantId.Parse(tenant) is not { } id)
        {
            return (null, ApiResponse.Problem(400, "tenant-invalid", "The tenant id is not valid", TenantId.Problem(tenant), path), null);
        }

        return await _tenants.FindAsync(id, cancellationToken).ConfigureAwait(false) is not { } found
            ? (null, ApiResponse.Problem(404, "tenant-unknown", "No such tenant", $"no tenant '{id}' is connected", path), null)
            : write && found.Tenant.MovingTo is { } to
            ? (null, ApiResponse.Problem(503, "tenant-moving", "The tenant is being moved", $"tenant '{id}' is being moved from storage shard {found.Tenant.Shard} to {to}; nothing was changed: try again in a few minutes", path), null)
            : (id, null, _shards.Services(found.Tenant.Shard));
    }

    /// <summary>
    /// The address from its path segment. The host decodes the path except <c>%2F</c> (a '/' would split segments), so that
    /// is decoded here; clients escape the address as one path segment (encodeURIComponent, Uri.EscapeDataString).
    /// </summary>
    public static string AddressOf(string? segment) => (segment ?? "").Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    /// <summary>A lookup accepts whatever Mailgun may have sent us (entries keep addresses as events carried them), only not what is plainly no address.</summary>
    private static string? LookupProblem(string address)
    {
        string a = address.Trim();
        return a.Length is 0 or > 512 || !a.Contains('@', StringComparison.Ordinal) || a.Any(char.IsControl)
            ? $"'{Printable(address)}' is not an email address"
            : null;
    }

    private static JObject HistoryView(DndHistoryRecord h) => new()
    {
        ["at"] = Time(h.At),
        ["source"] = DndHistoryRecord.SourceName(h.Source),
        ["kind"] = DndNames.Of(h.Kind),
        ["rule"] = h.Rule,
        ["category"] = h.Category,
        ["code"] = h.Code,
        ["enhancedCode"] = h.EnhancedCode,
        ["eventId"] = h.EventId,
        ["actor"] = h.Actor,
        ["explanation"] = h.Explanation,
        ["previousState"] = DndNames.Of(h.PreviousState),
        ["newState"] = DndNames.Of(h.NewState),
    };

    private static string RouteOf(string path) => path.Contains("/enable", StringComparison.Ordinal) ? "dnd/{tenant}/{address}/enable"
        : path.Count(c => c == '/') >= 4 ? "dnd/{tenant}/{address}" : "dnd/{tenant}";

    private static JToken Time(DateTimeOffset? t) => t is { } v ? v.ToUniversalTime().ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture) : JValue.CreateNull();

    private static string Printable(string s) => s.Length > 80 ? s[..80] + "…" : s;
}
