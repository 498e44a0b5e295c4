using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Http;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Testing;

/// <summary>
/// Mailgun's email validation API, <c>GET /v4/address/validate?address=...</c>: any account's key may ask (401 otherwise),
/// the answer is the result set for the address (<see cref="SetValidation"/>; <c>deliverable</c> with risk <c>low</c> when
/// none was set), and each question is counted per address. Faults: <c>Fail("account", "validate", 0, status, times)</c>.
/// </summary>
public sealed partial class MailgunFake
{
    private readonly ConcurrentDictionary<string, JObject> _validations = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _validationRequests = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>What <c>GET /v4/address/validate</c> answers for <paramref name="address"/>: Mailgun's <c>result</c>, <c>risk</c> and <c>reason</c> array.</summary>
    public void SetValidation(string address, string result, string risk = "low", params string[] reasons) =>
        _validations[address] = new JObject
        {
            ["address"] = address,
            ["is_disposable_address"] = false,
            ["is_role_address"] = false,
            ["reason"] = new JArray(reasons),
            ["result"] = result,
            ["risk"] = risk,
        };

    /// <summary>How many times the validation API was asked about <paramref name="address"/> (answered or failed).</summary>
    public int ValidationRequests(string address) => _validationRequests.GetValueOrDefault(address);

    private void ResetValidation()
    {
        _validations.Clear();
        _validationRequests.Clear();
    }

    /// <summary>Null when the request is not for the validation API.</summary>
    private async Task<int?> AnswerValidationAsync(HttpContext context, string[] s)
    {
        if (!(s.Length == 3 && s[0] == "v4" && s[1] == "address" && s[2] == "validate"))
        {
            return null;
        }

        if (AccountOf(context) is null)
        {
            Log(context, 401);
            context.Response.StatusCode = 401;
            await context.Response.WriteAsync("Forbidden");
            return 401;
        }

        string address = context.Request.Query["address"].ToString();
        _validationRequests.AddOrUpdate(address, 1, (_, n) => n + 1);
        if (InjectedFault("account", "validate") is { } fault)
        {
            return await WriteAsync(context, fault.Status, new JObject { ["message"] = fault.Status == HttpStatusCode.TooManyRequests ? "Too many requests" : "Internal error" });
        }

        if (address.Length == 0)
        {
            return await WriteAsync(context, HttpStatusCode.BadRequest, new JObject { ["message"] = "address is required" });
        }

        var answer = _validations.TryGetValue(address, out var set) ? (JObject)set.DeepClone()
            : new JObject { ["address"] = address, ["reason"] = new JArray(), ["result"] = "deliverable", ["risk"] = "low" };
        return await WriteAsync(context, HttpStatusCode.OK, answer);
    }
}
