using System.Reflection;
using MailgunFunctions.Storage;
using NetArchTest.Rules;

namespace MailgunFunctions.Tests;

/// <summary>
/// The Core's feature folders depend one way (ARCHITECTURE.md): each may use the folders listed before it and never
/// one listed after it, so an event's way from the webhook to the DND row and its notice reads in one direction and a
/// later change cannot bring a cycle back. Checked on the compiled assembly (type references in IL, not usings).
/// </summary>
public class ArchitectureTests
{
    /// <summary>From the bottom up. A new folder must be placed here, where its dependencies put it.</summary>
    public static readonly string[] Layers =
    [
        "Telemetry",            // the product's metrics (one Meter): used by every feature, uses none
        "Storage",              // Azure clients, table and queue names
        "Events",               // Mailgun's event payloads
        "Signatures",           // Mailgun's HMAC signature
        "Settings",             // the single-account Mailgun settings and the webhooks' behaviour
        "MailgunApi",           // Mailgun's REST API
        "Tenants",              // the tenant registry: accounts, keys, domains
        "Webhooks",             // authentication and replay guard, shared by both webhooks
        "Queueing",             // the events queue's envelope contract and its poison queue
        "Classification",       // what an answer means: a category, never a DND state
        "Dnd",                  // DND entries, their changes, history, change-log and outbox rows
        "Rates",                // per-tenant daily sends, bounces, complaints, unsubscribes and their thresholds
        "ChangeFeed",           // dispatch of recorded changes: queue, platform POST, retries, expiry, sweeper
        "Inbound",              // replies forwarded by Mailgun Routes
        "Erasure",              // erasing an address's personal data across the features that hold it
        "Processing",           // the events queue's processor
        "Ingestion",            // the events webhook
        "Export",               // the nightly suppression export and reconciliation
        "PlatformUnsubscribe",  // the platform's own unsubscribe link
        "Api",                  // the platform's DND API
        "Migration",            // moving single-account data to registry tenants
    ];

    private static readonly Assembly Core = typeof(StorageClients).Assembly;

    [Test]
    public void Every_namespace_of_the_core_has_its_place_in_the_layers()
    {
        var namespaces = Core.GetTypes()
            .Select(t => t.Namespace)
            .Where(ns => ns is not null && ns.StartsWith("MailgunFunctions.", StringComparison.Ordinal))
            .Select(ns => ns!["MailgunFunctions.".Length..].Split('.')[0])
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.That(namespaces, Is.EquivalentTo(Layers), "a Core folder that is not in the list (or a listed one that is gone)");
    }

    /// <summary>Every layer but the top one, which has nothing above it to avoid.</summary>
    public static IEnumerable<string> LayersBelowTheTop => Layers[..^1];

    [TestCaseSource(nameof(LayersBelowTheTop))]
    public void A_folder_never_uses_a_folder_above_it(string layer)
    {
        var above = Layers.SkipWhile(l => l != layer).Skip(1).Select(l => "MailgunFunctions." + l).ToArray();
        var result = Types.InAssembly(Core)
            .That().ResideInNamespace("MailgunFunctions." + layer)
            .ShouldNot().HaveDependencyOnAny(above)
            .GetResult();
        Assert.That(result.FailingTypeNames ?? [], Is.Empty,
            $"types of {layer} that use a folder above it ({string.Join(", ", above)}): move the shared part down, or invert the dependency");
    }

    [Test]
    public void The_check_sees_a_dependency_upwards()
    {
        // The rule itself must be able to fail: the composition root uses every folder, so the check finds it.
        var result = Types.InAssembly(Core)
            .That().HaveName(nameof(CoreRegistration))
            .ShouldNot().HaveDependencyOnAny("MailgunFunctions.Migration")
            .GetResult();
        Assert.That(result.IsSuccessful, Is.False);
    }
}
