using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MailgunFunctions.Tests.Infra;

/// <summary>
/// The security properties the deployment promises: identity-only storage, secrets only through Key Vault
/// references, one user-assigned identity with exactly the data-plane roles it needs.
/// </summary>
[TestFixture]
public sealed partial class SecurityTemplateTests
{
    private static readonly Dictionary<string, string> ExpectedRoles = new(StringComparer.OrdinalIgnoreCase)
    {
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
        ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"] = "Storage Blob Data Contributor",
        ["4633458b-17de-408a-b874-0445c86b69e6"] = "Key Vault Secrets User",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
    };

    private ArmTemplate template = null!;

    [OneTimeSetUp]
    public async Task Compile() => template = new ArmTemplate(await BicepCli.CompiledMainAsync());

    [Test]
    public void StorageAccounts_AcceptIdentityOnly()
    {
        // The home account and the shard accounts (storageShards), one declaration each.
        var accounts = template.ResourcesOfType("Microsoft.Storage/storageAccounts").Select(a => a["properties"]!).ToList();

        Assert.That(accounts, Has.Count.EqualTo(2));
        foreach (var properties in accounts)
        {
            Assert.Multiple(() =>
            {
                Assert.That((bool?)properties["allowSharedKeyAccess"], Is.False);
                Assert.That((bool?)properties["allowBlobPublicAccess"], Is.False);
                Assert.That((string?)properties["minimumTlsVersion"], Is.EqualTo("TLS1_2"));
                Assert.That((bool?)properties["supportsHttpsTrafficOnly"], Is.True);
            });
        }
    }

    [Test]
    public void RawInboundMail_IsDeletedByALifecycleRule_AfterTheAppsRetentionDays()
    {
        // Every account that holds raw inbound mail (home and shards) has the rule, from the same parameter.
        var policies = template.ResourcesOfType("Microsoft.Storage/storageAccounts/managementPolicies").ToList();
        var modules = new[] { template.Module("storage"), template.ModuleLoop("shardStorage") };
        Assert.That(policies, Has.Count.EqualTo(2));
        foreach (var (policy, module) in policies.Zip(modules))
        {
            AssertRetentionRule(policy["properties"]!["policy"]!["rules"]!.AsArray().Single()!, module["properties"]!["parameters"]!);
        }
    }

    private void AssertRetentionRule(JsonNode rule, JsonNode storage)
    {
        Assert.Multiple(() =>
        {
            Assert.That((bool?)rule["enabled"], Is.True);
            Assert.That(rule["definition"]!["filters"]!["prefixMatch"]!.AsArray().Select(p => (string?)p), Is.EqualTo(new[] { "[format('{0}/', parameters('inboundRawContainerName'))]" }));
            Assert.That((string?)rule["definition"]!["actions"]!["baseBlob"]!["delete"]!["daysAfterCreationGreaterThan"], Is.EqualTo("[parameters('inboundRawRetentionDays')]"));
            // The module gets the app's container name and the very parameter the app's setting is made from.
            Assert.That((string?)storage["inboundRawContainerName"]!["value"], Is.EqualTo(MailgunFunctions.Storage.StorageNames.InboundRawContainer));
            Assert.That(ArmTemplate.ParameterOf((string)storage["inboundRawRetentionDays"]!["value"]!), Is.EqualTo("inboundRawRetentionDays"));
            Assert.That(ArmTemplate.ParameterOf(template.AppSettings["Inbound__RawRetentionDays"]), Is.EqualTo("inboundRawRetentionDays"));
        });
    }

    [Test]
    public void Template_NeverReadsAnAccountKey()
    {
        string json = template.Root.ToJsonString();

        Assert.Multiple(() =>
        {
            Assert.That(json, Does.Not.Contain("listKeys(").IgnoreCase);
            Assert.That(json, Does.Not.Contain("AccountKey=").IgnoreCase);
            Assert.That(json, Does.Not.Contain("SharedAccessSignature").IgnoreCase);
        });
    }

    [Test]
    public void AppSettings_ConnectToStorageWithTheUserAssignedIdentity()
    {
        var settings = template.AppSettings;

        Assert.Multiple(() =>
        {
            Assert.That(settings.Keys, Has.None.EqualTo("AzureWebJobsStorage").IgnoreCase, "a connection string setting");
            Assert.That(settings["AzureWebJobsStorage__credential"], Is.EqualTo("managedidentity"));
            Assert.That(settings["AzureWebJobsStorage__clientId"], Does.Contain("'identity'").And.Contain("clientId"),
                "the client id of the identity module's identity");
            foreach (string service in new[] { "blob", "queue", "table" })
            {
                Assert.That(settings[$"AzureWebJobsStorage__{service}ServiceUri"], Does.Contain($"outputs.{service}Endpoint"));
            }

            Assert.That(settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"], Does.Contain("ClientId={0};Authorization=AAD"));
        });
    }

    [Test]
    public void SecretLikeSettings_AreKeyVaultReferences()
    {
        var secretLike = template.AppSettings
            .Where(s => IsSecretLike(s.Key))
            .ToList();
        var plain = secretLike.Where(s => ArmTemplate.ReferencedSecret(s.Value) is null).Select(s => s.Key).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(secretLike.Select(s => s.Key), Is.SupersetOf(new[] { "Mailgun__SigningKeys__primary", "Mailgun__ApiKey" }));
            Assert.That(plain, Is.Empty,
                "secret-like settings with a plain value: store them in modules/keyvault.bicep and set a Key Vault reference (or list a truly public one in NotSecrets)");
            Assert.That(template.RotationSettingsExpression, Does.Contain("@Microsoft.KeyVault(VaultName={0};SecretName=mailgun-signing-key-next)"));
        });
    }

    [Test]
    public void KeyVaultReferences_NameSecretsTheTemplateCreates()
    {
        // An unresolvable reference reaches the app as its own text; for a signing key that text would be a usable key.
        var referenced = template.AppSettings.Values.Append(template.RotationSettingsExpression)
            .SelectMany(v => KeyVaultReferenceSecret().Matches(v).Select(m => m.Groups[1].Value))
            .ToList();

        Assert.Multiple(() =>
        {
            Assert.That(referenced, Has.Count.GreaterThanOrEqualTo(4));
            Assert.That(referenced.Except(template.SecretNames), Is.Empty, "references to secrets the templates do not create");
            Assert.That(template.SecretNames, Is.SupersetOf(new[] { "mailgun-signing-key-primary", "mailgun-signing-key-next", "mailgun-api-key", "unsubscribe-link-key" }));
        });
    }

    [Test]
    public void SecretParameters_AreSecure()
    {
        var secrets = new[] { "mailgunSigningKey", "mailgunNextSigningKey", "mailgunApiKey", "unsubscribeLinkKey" };

        Assert.Multiple(() =>
        {
            foreach (string name in secrets)
            {
                Assert.That((string?)template.Parameters[name]!["type"], Is.EqualTo("securestring"), name);
            }

            Assert.That(template.Parameters.Where(p => (string?)p.Value!["type"] == "securestring" && p.Value["defaultValue"] is { } d && d.ToString() != "")
                .Select(p => p.Key), Is.Empty, "secure parameters with a non-empty default");
        });
    }

    [Test]
    public void KeyVault_UsesRbacWithSoftDeleteAndOptionalPurgeProtection()
    {
        var properties = template.ResourcesOfType("Microsoft.KeyVault/vaults").Single()["properties"]!;

        Assert.Multiple(() =>
        {
            Assert.That((bool?)properties["enableRbacAuthorization"], Is.True);
            Assert.That((bool?)properties["enableSoftDelete"], Is.True);
            Assert.That(properties["accessPolicies"], Is.Null);
            Assert.That(properties["enablePurgeProtection"]?.ToString(), Does.Contain("parameters('enablePurgeProtection')"));
            Assert.That(template.Parameters["keyVaultPurgeProtection"]!["defaultValue"]!.GetValue<bool>(), Is.True);
        });
    }

    [Test]
    public void ApplicationInsights_AcceptsEntraAuthenticatedTelemetryOnly()
    {
        var properties = template.ResourcesOfType("Microsoft.Insights/components").Single()["properties"]!;

        Assert.That((bool?)properties["DisableLocalAuth"], Is.True);
    }

    [Test]
    public void Identity_HasExactlyTheDataPlaneRoles_OnTheirOwnResources()
    {
        var assignments = template.ResourcesOfType("Microsoft.Authorization/roleAssignments").ToList();
        var variables = template.Module("rbac")["properties"]!["template"]!["variables"]!;
        // (role, resource type it is scoped to) for every assignment, loops expanded.
        var granted = assignments
            .SelectMany(a => RolesOf(a["properties"]!["roleDefinitionId"]!.ToString(), variables)
                .Select(role => (Role: ExpectedRoles.GetValueOrDefault(role, role), Scope: ScopeType(a))))
            .OrderBy(g => g.Role, StringComparer.Ordinal)
            .ToList();

        Assert.Multiple(() =>
        {
            Assert.That(granted, Is.EqualTo(new[]
            {
                ("Key Vault Secrets User", "Microsoft.KeyVault/vaults"),
                ("Monitoring Metrics Publisher", "Microsoft.Insights/components"),
                // The storage shards: the app's own data, no host state.
                ("Storage Blob Data Contributor", "Microsoft.Storage/storageAccounts"),
                ("Storage Blob Data Owner", "Microsoft.Storage/storageAccounts"),
                ("Storage Queue Data Contributor", "Microsoft.Storage/storageAccounts"),
                ("Storage Queue Data Contributor", "Microsoft.Storage/storageAccounts"),
                ("Storage Table Data Contributor", "Microsoft.Storage/storageAccounts"),
                ("Storage Table Data Contributor", "Microsoft.Storage/storageAccounts"),
            }));
            Assert.That(assignments.Select(a => a["name"]!.ToString()), Has.All.StartWith("[guid("));
            Assert.That(assignments.Select(a => (string?)a["properties"]!["principalType"]), Has.All.EqualTo("ServicePrincipal"));
            Assert.That(assignments.Select(a => a["properties"]!["principalId"]!.ToString()),
                Has.All.Contains("Microsoft.ManagedIdentity/userAssignedIdentities"), "a principal other than the app's identity");
        });
    }

    [Test]
    public void FunctionApp_RunsDotnetIsolated10OnFlexWithTheUserAssignedIdentity()
    {
        var plan = template.ResourcesOfType("Microsoft.Web/serverfarms").Single();
        var app = template.ResourcesOfType("Microsoft.Web/sites").Single();
        var config = app["properties"]!["functionAppConfig"]!;
        var credentials = template.ResourcesOfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();
        var settings = template.ResourcesOfType("Microsoft.Web/sites/config").Single();

        Assert.Multiple(() =>
        {
            Assert.That((string?)plan["sku"]!["name"], Is.EqualTo("FC1"));
            Assert.That((string?)plan["sku"]!["tier"], Is.EqualTo("FlexConsumption"));
            Assert.That((string?)app["identity"]!["type"], Is.EqualTo("UserAssigned"));
            Assert.That((bool?)app["properties"]!["httpsOnly"], Is.True);
            Assert.That(app["properties"]!["keyVaultReferenceIdentity"]?.ToString(), Is.EqualTo("[parameters('identityId')]"));
            Assert.That((string?)config["runtime"]!["name"], Is.EqualTo("dotnet-isolated"));
            Assert.That((string?)config["runtime"]!["version"], Is.EqualTo("10.0"));
            Assert.That((string?)config["deployment"]!["storage"]!["authentication"]!["type"], Is.EqualTo("UserAssignedIdentity"));
            Assert.That(config["scaleAndConcurrency"]!["maximumInstanceCount"]!.ToString(), Is.EqualTo("[parameters('maximumInstanceCount')]"));
            Assert.That(credentials.Select(c => (bool?)c["properties"]!["allow"]).ToList(), Has.Count.EqualTo(2).And.All.False);
            Assert.That(settings["properties"]!.ToString(), Is.EqualTo("[union(parameters('appSettings'), parameters('rotationSettings'))]"));
            // Flex Consumption rejects these (runtime and package live in functionAppConfig); habit from other plans adds them.
            Assert.That(template.AppSettings.Keys, Has.None.AnyOf(
                "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE",
                "WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_NODE_DEFAULT_VERSION"));
            Assert.That(template.Module("functionapp")["properties"]!["parameters"]!["appTags"]!["value"]!.GetValue<string>(), Does.Contain("'azd-service-name', 'functions'"));
        });
    }

    /// <summary>
    /// Names that look like secrets but are not. Application Insights' connection string only names the resource once
    /// local authentication is off. Add a new option here only if its value really is public (e.g. a token count).
    /// </summary>
    private static readonly string[] NotSecrets = ["APPLICATIONINSIGHTS_CONNECTION_STRING"];

    // Signing keys, API keys, passwords, tokens, connection strings.
    private static bool IsSecretLike(string name) =>
        SecretLikeName().IsMatch(name) && !NotSecrets.Contains(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Role ids of a roleDefinitionId expression: a literal id, <c>variables('roles').x</c>, or a loop over a variable list.</summary>
    private static IEnumerable<string> RolesOf(string expression, JsonNode variables)
    {
        if (LoopVariable().Match(expression) is { Success: true } loop)
        {
            return variables[loop.Groups[1].Value]!.AsArray().SelectMany(item => RolesOf(item!.ToString(), variables));
        }

        if (RoleVariable().Match(expression) is { Success: true } named)
        {
            return [variables["roles"]![named.Groups[1].Value]!.ToString()];
        }

        return [LiteralGuid().Match(expression) is { Success: true } literal ? literal.Value : expression];
    }

    private static string ScopeType(JsonObject assignment) =>
        ScopeResourceType().Match(assignment["scope"]?.ToString() ?? "") is { Success: true } match ? match.Groups[1].Value : "(resource group)";

    // variables('roles')[copyIndex()], or [mod(...copyIndex()...)] when one loop runs over (account, role) pairs.
    [GeneratedRegex(@"variables\('(\w+)'\)\[(?:copyIndex\(\)\]|mod\()")]
    private static partial Regex LoopVariable();

    [GeneratedRegex(@"variables\('roles'\)\.(\w+)")]
    private static partial Regex RoleVariable();

    [GeneratedRegex(@"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex LiteralGuid();

    [GeneratedRegex(@"^\[resourceId\('([A-Za-z./]+)'")]
    private static partial Regex ScopeResourceType();

    [GeneratedRegex(@"(key|secret|password|token|connection_?string)(s)?($|__)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretLikeName();

    [GeneratedRegex(@"SecretName=([A-Za-z0-9-]+)\)")]
    private static partial Regex KeyVaultReferenceSecret();

}
