using System.Globalization;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Tenants;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Export;

/// <summary>
/// One message of the <c>suppression-export-jobs</c> queue: export and reconcile one domain of one tenant for one date.
/// The date travels with the job, so a job run after midnight (a backlog, a retry) still completes the night it
/// belongs to, and two jobs of the same scope and date are the same work (the export skips what is done).
/// <see cref="Continuation"/> counts how often the job stopped at its time budget and queued itself again.
/// </summary>
public sealed record ExportJob(ExportScope Scope, DateOnly Date, int Continuation = 0)
{
    /// <summary><c>{"tenant":"loc1","domain":"mg.example.com","date":"2026-11-26","continuation":0}</c>: about 100 bytes.</summary>
    public string ToJson() => new JObject
    {
        ["tenant"] = Scope.Tenant,
        ["domain"] = Scope.Domain,
        ["date"] = Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["continuation"] = Continuation,
    }.ToString(Formatting.None);

    /// <summary>Reads a job as the queue trigger hands it over; throws <see cref="ExportJobFormatException"/> when it can never be run.</summary>
    public static ExportJob Parse(string text)
    {
        JObject json;
        try
        {
            json = JObject.Parse(text ?? "");
        }
        catch (JsonReaderException ex)
        {
            throw new ExportJobFormatException("not a JSON object", ex);
        }

        string? tenant = TenantId.Parse(Text(json, "tenant"));
        string? domain = SendingDomain.Normalize(Text(json, "domain"));
        if (tenant is null)
        {
            throw new ExportJobFormatException("'tenant' is missing or not a tenant id");
        }

        if (domain is null)
        {
            throw new ExportJobFormatException("'domain' is missing or not a domain name");
        }

        if (!DateOnly.TryParseExact(Text(json, "date"), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            throw new ExportJobFormatException("'date' is missing or not yyyy-MM-dd");
        }

        int continuation = json["continuation"] is JValue { Type: JTokenType.Integer } n ? (int)Math.Clamp((long)n, 0, int.MaxValue) : 0;
        return new ExportJob(new ExportScope(tenant, domain), date, continuation);
    }

    private static string? Text(JObject json, string name) => json[name] is JValue { Type: JTokenType.String } value ? (string?)value : null;
}

/// <summary>A job message that can never be run (not written by the fan-out): it goes to the poison queue at once.</summary>
public sealed class ExportJobFormatException : Exception
{
    public ExportJobFormatException()
    {
    }

    public ExportJobFormatException(string message)
        : base(message)
    {
    }

    public ExportJobFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
