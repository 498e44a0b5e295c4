using System.Text;
using MailgunFunctions.Api;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Dnd;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.Processing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;
using static MailgunFunctions.Tests.Dnd.DndTestEvents;

namespace MailgunFunctions.Tests.ChangeFeed;

/// <summary>The platform's query API (DndApi, behind the thin HTTP functions) on a real Azurite.</summary>
public class DndApiTests
{
    private ProcessingHarness _harness = null!;
    private string _tenant = null!;

    [SetUp]
    public async Task SetUp()
    {
        _harness = await ProcessingHarness.CreateAsync();
        _tenant = TestTenants.NewId("api");
        await TestTenants.RegisterAsync(_harness.Services, _tenant, TestTenants.NewSigningKey(), [_tenant + ".example.com"]);
    }

    [TearDown]
    public async Task TearDown() => await _harness.DisposeAsync();

    private DndApi Api => _harness.Services.GetRequiredService<DndApi>();

    private static JObject Json(ApiResponse response) => JObject.Parse(response.Body);

    private static Stream Body(string json) => new MemoryStream(Encoding.UTF8.GetBytes(json));

    [Test]
    public async Task Get_returns_state_version_last_change_and_history()
    {
        await _harness.Store.ApplyAsync(_tenant, Address, Hard(T0), default);
        await _harness.Store.ApplyAsync(_tenant, Address, Complaint(T0.AddMinutes(1)), default);

        var response = await Api.GetAsync(_tenant, Address, "/api/dnd/x", default);
        var body = Json(response);
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(200));
            Assert.That((string?)body["state"], Is.EqualTo("locked"));
            Assert.That((bool?)body["locked"], Is.True);
            Assert.That((long?)body["version"], Is.EqualTo(2));
            Assert.That((long?)body["lastChange"]?["version"], Is.EqualTo(2));
            Assert.That((string?)body["lastChange"]?["current"]?["state"], Is.EqualTo("locked"));
            Assert.That(body["history"], Has.Count.EqualTo(2));
        });
    }

    [Test]
    public async Task ChangedSince_pages_through_every_change_once_and_a_later_change_on_the_next_call()
    {
        var addresses = Enumerable.Range(0, 5).Select(i => $"person{i}@example.com").ToList();
        foreach (var a in addresses)
        {
            await _harness.Store.ApplyAsync(_tenant, a, Change(HardData(T0, address: a)), default);
            _harness.Time.Advance(TimeSpan.FromSeconds(1));
        }

        // Inside the safety margin nothing is returned yet (a slower writer could still add a row below it).
        var tooEarly = Json(await Api.ChangesAsync(_tenant, "2026-01-01T00:00:00Z", "2", "/api/dnd/x", default));
        Assert.That(tooEarly["changes"], Is.Empty);

        _harness.Time.Advance(TimeSpan.FromMinutes(3));
        var seen = new List<string>();
        string? cursor = "2026-01-01T00:00:00Z";
        for (int page = 0; page < 10; page++)
        {
            var body = Json(await Api.ChangesAsync(_tenant, cursor, "2", "/api/dnd/x", default));
            seen.AddRange(body["changes"]!.Select(c => (string)c["address"]!));
            cursor = (string?)body["next"];
            if ((bool)body["caughtUp"]!)
            {
                break;
            }
        }

        Assert.That(seen, Is.EqualTo(addresses.Select(DndKeys.NormalizeAddress)), "every change once, in the order recorded");

        await _harness.Store.ApplyAsync(_tenant, addresses[0], Change(SimpleData("complained", T0.AddMinutes(5), address: addresses[0])), default);
        _harness.Time.Advance(TimeSpan.FromMinutes(3));
        var next = Json(await Api.ChangesAsync(_tenant, cursor, null, "/api/dnd/x", default));
        Assert.Multiple(() =>
        {
            Assert.That(next["changes"]!.Select(c => ((string)c["address"]!, (long)c["version"]!)), Is.EqualTo(new[] { (DndKeys.NormalizeAddress(addresses[0]), 2L) }));
            Assert.That((bool)next["caughtUp"]!, Is.True);
        });
    }

    [Test]
    public async Task Bad_input_gets_problem_details_with_a_4xx()
    {
        await _harness.Store.ApplyAsync(_tenant, Address, Complaint(T0), default);
        var cases = new (string Name, Task<ApiResponse> Call, int Status, string Type)[]
        {
            ("unknown tenant", Api.GetAsync("nosuchtenant1", Address, "/p", default), 404, "tenant-unknown"),
            ("bad tenant", Api.GetAsync("Bad Tenant!", Address, "/p", default), 400, "tenant-invalid"),
            ("bad address", Api.GetAsync(_tenant, "not an address", "/p", default), 400, "address-invalid"),
            ("bad limit", Api.ChangesAsync(_tenant, null, "abc", "/p", default), 400, "limit-invalid"),
            ("bad cursor", Api.ChangesAsync(_tenant, "yesterday", null, "/p", default), 400, "cursor-invalid"),
            ("not json", Api.EnableAsync(_tenant, Address, Body("operator=x"), 10, "application/x-www-form-urlencoded", "/p", default), 415, "unsupported-media-type"),
            ("broken json", Api.EnableAsync(_tenant, Address, Body("{\"operator\":"), 12, "application/json", "/p", default), 400, "body-invalid"),
            ("no note", Api.EnableAsync(_tenant, Address, Body("{\"operator\":\"ann\"}"), null, "application/json", "/p", default), 400, "body-invalid"),
            ("locked", Api.EnableAsync(_tenant, Address, Body("{\"operator\":\"ann\",\"note\":\"asked\"}"), null, "application/json", "/p", default), 409, "locked-complaint"),
        };
        foreach (var (name, call, status, type) in cases)
        {
            var response = await call;
            var body = Json(response);
            Assert.Multiple(() =>
            {
                Assert.That(response.StatusCode, Is.EqualTo(status), name);
                Assert.That(response.ContentType, Does.StartWith("application/problem+json"), name);
                Assert.That((string?)body["type"], Is.EqualTo(ApiResponse.ProblemTypePrefix + type), name);
                Assert.That((int?)body["status"], Is.EqualTo(status), name);
                Assert.That((string?)body["detail"], Is.Not.Empty, name);
            });
        }

        var (_, status2) = await _harness.Store.GetStatusAsync(_tenant, Address, default);
        Assert.That(status2.State, Is.EqualTo(DndState.Locked), "a refused re-enable changes nothing");
    }
}
