using System.CommandLine;
using MailgunFunctions;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Ingestion;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Settings;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.Options;

namespace MailgunOps;

/// <summary>
/// <c>tenant connect|list|show|set|add-domain|remove-domain|rotate-signing-key|disconnect|rewrap|audit|parent</c>: platform
/// locations and their Mailgun accounts, through the Core's <see cref="TenantConnection"/> and <see cref="TenantRegistry"/>.
/// Secrets come from files or standard input only, and no output shows one: key ids, "api key: set", URLs with their
/// query masked.
/// </summary>
public static class TenantCommands
{
    public static Command Build(OpsRuntime runtime)
    {
        var tenant = new Command("tenant", "Connect platform locations (tenants) to their Mailgun accounts and look after them.");
        tenant.Subcommands.Add(Connect(runtime));
        tenant.Subcommands.Add(List(runtime));
        tenant.Subcommands.Add(Show(runtime));
        tenant.Subcommands.Add(Set(runtime));
        tenant.Subcommands.Add(AddDomain(runtime));
        tenant.Subcommands.Add(RemoveDomain(runtime));
        tenant.Subcommands.Add(RotateSigningKey(runtime));
        tenant.Subcommands.Add(Disconnect(runtime));
        tenant.Subcommands.Add(Rewrap(runtime));
        tenant.Subcommands.Add(Audit(runtime));
        tenant.Subcommands.Add(Parent(runtime));
        tenant.Subcommands.Add(TenantMove.Build(runtime));
        return tenant;
    }

    private static Option<string> TenantOption() => new("--tenant") { Description = "The tenant: the platform's location id.", Required = true };

    private static Option<string?> AppUrlOption(string description) => new("--app-url") { Description = description };

    private static Option<string?> FunctionKeyFile() => SecretInput.FileOption("--function-key-file",
        $"File holding the function key Mailgun sends as ?code= (default: environment variable {SecretInput.FunctionKeyVariable}). Never printed.");

    private static Command Connect(OpsRuntime runtime)
    {
        var tenant = TenantOption();
        var domains = new Option<string[]>("--domain") { Description = "A sending domain of the tenant's Mailgun account (repeat for several).", Required = true, Arity = ArgumentArity.OneOrMore };
        var region = OpsCommands.Region();
        region.Description = "Mailgun region of the account and of these domains: us or eu (default us). An EU domain of a US account: tenant add-domain --region eu.";
        var name = new Option<string?>("--name") { Description = "Display name (default: kept, else the first domain)." };
        var apiKeyFile = SecretInput.FileOption("--api-key-file", "File holding the account's private API key (default: standard input).");
        var appUrl = AppUrlOption("The app's base URL, e.g. https://<app>.azurewebsites.net (default: the one stored by an earlier connect).");
        var functionKeyFile = FunctionKeyFile();
        var parent = new Option<string?>("--parent-account") { Description = "Trust this parent account's key through parent-signature (see tenant parent add)." };
        var accountId = new Option<string?>("--mailgun-account-id") { Description = "Mailgun's id of the tenant's (sub)account, as events carry it in account.id." };
        var skip = new Option<bool>("--skip-mailgun-setup") { Description = "Only store the tenant: webhooks and the reply route are set up elsewhere." };
        var actor = OpsCommands.Actor();
        var command = new Command("connect",
            "Connect a tenant as the platform's settings page does: check the API key and domains at Mailgun, store the key and the account's webhook signing key (sealed), set up webhooks and the reply route, print the tenant's URLs. Idempotent: a rerun completes or repeats it.")
        {
            tenant, domains, region, name, apiKeyFile, appUrl, functionKeyFile, parent, accountId, skip, actor,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            SecretInput.RefuseCommandLineKey(parse, runtime, "tenant connect");
            Registry(ctx);
            bool skipSetup = parse.GetValue(skip);
            var app = AppUrl(parse.GetValue(appUrl));
            string? functionKey = skipSetup ? null : await SecretInput.FunctionKeyAsync(ctx, parse.GetValue(functionKeyFile), token).ConfigureAwait(false);
            if (!skipSetup && functionKey is null)
            {
                throw new OpsException(ExitCodes.Configuration,
                    $"no function key: Mailgun must send one as ?code= (the webhooks use function-level keys). Give --function-key-file <file> or set {SecretInput.FunctionKeyVariable}");
            }

            var mailgunRegion = parse.GetValue(region) ?? MailgunRegion.Us;
            string apiKey = await SecretInput.ReadAsync(ctx, parse.GetValue(apiKeyFile), "Mailgun private API key", stdinByDefault: true, "--api-key-file", token).ConfigureAwait(false);
            var result = await ctx.Get<TenantConnection>().ConnectAsync(new ConnectRequest
            {
                TenantId = parse.GetValue(tenant)!,
                Domains = parse.GetValue(domains)!.Select(d => new TenantDomain(d, mailgunRegion)).ToList(),
                Region = mailgunRegion,
                DisplayName = parse.GetValue(name),
                ApiKey = apiKey,
                AppUrl = app,
                FunctionKey = functionKey,
                ParentAccount = parse.GetValue(parent),
                MailgunAccountId = parse.GetValue(accountId),
                SkipMailgunSetup = skipSetup,
                Actor = OpsCommands.ActorOf(parse.GetValue(actor)),
            }, token).ConfigureAwait(false);
            Print(ctx, "connect", result, functionKey is not null);
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command List(OpsRuntime runtime)
    {
        var command = new Command("list", "Every tenant of the registry (JSON Lines with --json); no secret is opened.");
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var registry = Registry(ctx);
            var rows = new List<string?[]>();
            int count = 0;
            if (ctx.Get<TenantDirectory>().Implicit is { } single)
            {
                count++;
                var t = single.Tenant;
                Emit(ctx, rows, t.Id, "(settings)", "connected", t.Domains, t.SigningKeys.Select(k => k.Id).ToList(), t.ApiKey is not null, null, null, implicitTenant: true, shard: 0);
            }

            await foreach (var t in registry.ListAsync(token).ConfigureAwait(false))
            {
                count++;
                Emit(ctx, rows, t.Id, t.DisplayName, TenantRegistry.StateName(t.State), t.Domains, t.SigningKeyIds, t.HasApiKey, t.ParentAccount, t.UpdatedAt, implicitTenant: false, shard: t.Shard);
            }

            if (!ctx.Output.Json)
            {
                ctx.Output.Table(["TENANT", "NAME", "STATE", "DOMAINS", "SIGNING KEYS", "API KEY", "PARENT", "UPDATED"], rows);
                ctx.Output.Progress($"{count} tenant(s)");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;

        static void Emit(OpsContext ctx, List<string?[]> rows, string id, string name, string state, IReadOnlyList<TenantDomain> domains, IReadOnlyList<string> keys, bool apiKey,
            string? parent, DateTimeOffset? updated, bool implicitTenant, int shard)
        {
            if (ctx.Output.Json)
            {
                ctx.Output.Line(new { tenant = id, name, state, domains = DomainViews(domains), signingKeys = keys, apiKey = apiKey ? "set" : "none", parentAccount = parent, updatedAt = updated, fromSettings = implicitTenant, shard });
            }
            else
            {
                rows.Add([id, name, state, string.Join(" ", domains.Select(d => d.Name)), string.Join(" ", keys), apiKey ? "set" : "none", parent ?? "", Output.Time(updated)]);
            }
        }
    }

    private static Command Show(OpsRuntime runtime)
    {
        var tenant = TenantOption();
        var command = new Command("show", "One tenant: state, domains, key ids and when retired keys stop verifying, what sealed its secrets, its URLs. Never a secret.") { tenant };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var registry = Registry(ctx);
            string id = Id(parse.GetValue(tenant));
            var t = await registry.GetAsync(id, token).ConfigureAwait(false)
                ?? (ctx.Get<TenantDirectory>().Implicit is { } single && single.Id == id ? single.Tenant : null)
                ?? throw new OpsException(ExitCodes.NotFound, $"no tenant '{id}': see mailgun-ops tenant list");
            var sealedWith = t.IsImplicit ? new Dictionary<string, string>() : await registry.SealedWithAsync(id, token).ConfigureAwait(false);
            var window = ctx.Get<IOptions<WebhookOptions>>().Value.MaxSignatureAge;
            var now = ctx.Time.GetUtcNow();
            var current = t.CurrentSigningKey;
            var keys = t.SigningKeys.Select(k => new
            {
                id = k.Id,
                current = ReferenceEquals(k, current),
                addedAt = k.AddedAt == DateTimeOffset.MinValue ? (DateTimeOffset?)null : k.AddedAt,
                retiredAt = k.RetiredAt,
                verifiesUntil = k.RetiredAt + window,
                verifies = k.VerifiesAt(now, window),
            }).ToList();
            string apiKey = t.ApiKey is null ? "none" : sealedWith.TryGetValue("ApiKey", out var kek) ? $"set (sealed with key-encryption key {kek})" : "set (from settings)";
            var events = t.AppUrl is { } app ? TenantUrls.Events(app, id) : null;
            var inbound = t.AppUrl is { } app2 ? TenantUrls.Inbound(app2, id) : null;
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new
                {
                    tenant = t.Id,
                    name = t.DisplayName,
                    state = TenantRegistry.StateName(t.State),
                    region = TenantRegistry.RegionName(t.Region),
                    domains = DomainViews(t.Domains),
                    apiKey,
                    signingKeys = keys,
                    sealedWith,
                    parentAccount = t.ParentAccount,
                    mailgunAccountId = t.MailgunAccountId,
                    appUrl = t.AppUrl?.AbsoluteUri,
                    notificationUrl = t.Notifications?.Url is { } nu ? UrlMask.Mask(nu) : null,
                    notificationSecret = string.IsNullOrEmpty(t.Notifications?.Secret) ? "not set" : "set",
                    brandName = t.BrandName,
                    brandLogoUrl = t.BrandLogoUrl?.AbsoluteUri,
                    mailgunValidation = t.UseMailgunValidation ? "on" : "off",
                    shard = t.Shard,
                    movingTo = t.MovingTo,
                    eventsUrl = events is null ? null : UrlMask.Mask(events.AbsoluteUri + "?code=<function key>"),
                    inboundUrl = inbound is null ? null : UrlMask.Mask(inbound.AbsoluteUri + "?code=<function key>"),
                    fromSettings = t.IsImplicit,
                    createdAt = t.IsImplicit ? (DateTimeOffset?)null : t.CreatedAt,
                    updatedAt = t.IsImplicit ? (DateTimeOffset?)null : t.UpdatedAt,
                });
                return ExitCodes.Ok;
            }

            var o = ctx.Output;
            o.Text($"tenant:          {t.Id}{(t.IsImplicit ? " (the single-account tenant, from settings)" : "")}");
            o.Text($"name:            {t.DisplayName}");
            o.Text($"state:           {TenantRegistry.StateName(t.State)}");
            o.Text($"region:          {TenantRegistry.RegionName(t.Region)}");
            o.Text($"domains:         {string.Join(", ", t.Domains.Select(d => $"{d.Name} ({TenantRegistry.RegionName(d.Region)})"))}");
            o.Text($"api key:         {apiKey}");
            o.Text($"storage shard:   {t.Shard}{(t.MovingTo is { } to ? $" (being moved to shard {to}: its webhooks answer 503 until tenant move finishes)" : "")}");
            foreach (var k in keys)
            {
                string status = k.current ? "current" : k.retiredAt is { } r ? $"retired {Output.Time(r)}, {(k.verifies ? "verifies" : "verified")} until {Output.Time(k.verifiesUntil)}" : "not retired";
                o.Text($"signing key:     {k.id} ({status}{(k.addedAt is { } a ? $", added {Output.Time(a)}" : "")})");
            }

            o.Text($"sealed with:     {(sealedWith.Count == 0 ? "nothing sealed" : string.Join(", ", sealedWith.Select(s => $"{s.Key} {s.Value}")))}");
            o.Text($"parent account:  {t.ParentAccount ?? "none (only its own keys verify)"}");
            o.Text($"mailgun account: {t.MailgunAccountId ?? "not set"}");
            o.Text($"app url:         {t.AppUrl?.AbsoluteUri ?? "not set"}");
            o.Text($"brand:           {(t.BrandName is { Length: > 0 } brand ? brand : $"not set (the unsubscribe page shows '{t.Brand}')")}");
            o.Text($"brand logo:      {t.BrandLogoUrl?.AbsoluteUri ?? "not set"}");
            o.Text($"validation:      {(t.UseMailgunValidation ? "mailgun (re-enables ask Mailgun's email validation API)" : "dns (re-enables check syntax and MX/A records; tenant set --mailgun-validation on for Mailgun's)")}");
            o.Text($"notifications:   {(t.Notifications?.Url is { } notify ? UrlMask.Mask(notify) + (string.IsNullOrEmpty(t.Notifications.Secret) ? " (no secret: nothing is sent)" : " (secret set)") : "off (docs/change-feed.md; tenant set --notification-url)")}");
            if (events is not null)
            {
                o.Text($"webhook URL:     {UrlMask.Mask(events.AbsoluteUri + "?code=<function key>")}");
                o.Text($"inbound URL:     {UrlMask.Mask(inbound!.AbsoluteUri + "?code=<function key>")}");
            }

            if (!t.IsImplicit)
            {
                o.Text($"created:         {Output.Time(t.CreatedAt)}");
                o.Text($"updated:         {Output.Time(t.UpdatedAt)}");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command Set(OpsRuntime runtime)
    {
        var tenant = TenantOption();
        var name = new Option<string?>("--name") { Description = "Display name." };
        var parent = new Option<string?>("--parent-account") { Description = "Trust this parent account's key through parent-signature; 'none' to stop." };
        var accountId = new Option<string?>("--mailgun-account-id") { Description = "Mailgun's id of the tenant's (sub)account; 'none' to clear." };
        var appUrl = AppUrlOption("The app's base URL Mailgun posts this tenant's events to (what disconnect and add-domain find our webhooks by).");
        var notificationUrl = new Option<string?>("--notification-url")
        {
            Description = "The platform's endpoint for this tenant's DND change notifications (https; docs/change-feed.md); 'none' to stop them.",
        };
        var notificationSecretFile = SecretInput.FileOption("--notification-secret-file",
            $"File holding the secret that signs this tenant's notifications (at least {NotificationOptionsValidator.MinimumSecretLength} characters; required with a first --notification-url). Never printed.");
        var brandName = new Option<string?>("--brand-name")
        {
            Description = $"The brand contacts recognise, shown on the unsubscribe page (at most {TenantBrand.MaxNameLength} characters; 'none': the display name).",
        };
        var brandLogoUrl = new Option<string?>("--brand-logo-url") { Description = "An https URL of the brand's logo for the unsubscribe page; 'none' to remove it." };
        var mailgunValidation = new Option<string?>("--mailgun-validation")
        {
            Description = "on: re-enables validate addresses with Mailgun's email validation API (a paid feature of the account); off: with the DNS check (syntax, MX or A record).",
        };
        mailgunValidation.AcceptOnlyFromAmong("on", "off");
        var actor = OpsCommands.Actor();
        var command = new Command("set", "Change a tenant's display name, parent account, Mailgun account id, app URL, change-notification endpoint, unsubscribe-page brand or re-enable validator (audited; secrets never shown).")
        {
            tenant, name, parent, accountId, appUrl, notificationUrl, notificationSecretFile, brandName, brandLogoUrl, mailgunValidation, actor,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            Registry(ctx);
            var app = AppUrl(parse.GetValue(appUrl));
            string? newName = parse.GetValue(name), newParent = parse.GetValue(parent), newAccount = parse.GetValue(accountId);
            string? urlText = parse.GetValue(notificationUrl)?.Trim();
            bool stopNotifications = urlText is "none";
            Uri? newNotificationUrl = null;
            if (urlText is { Length: > 0 } && !stopNotifications)
            {
                if (NotificationTargets.UrlProblem(urlText) is { } problem)
                {
                    throw new OpsException(ExitCodes.Usage, "--notification-url: " + UrlMask.InText(problem));
                }

                newNotificationUrl = new Uri(urlText);
            }

            string? newSecret = parse.GetValue(notificationSecretFile) is { } secretFile
                ? await SecretInput.ReadAsync(ctx, secretFile, "notification secret", stdinByDefault: false, "--notification-secret-file", token).ConfigureAwait(false)
                : null;
            if (newSecret is { Length: < NotificationOptionsValidator.MinimumSecretLength })
            {
                throw new OpsException(ExitCodes.Usage, $"--notification-secret-file: the secret must have at least {NotificationOptionsValidator.MinimumSecretLength} characters");
            }

            var (brandChange, newBrand) = Clearable(parse.GetValue(brandName), "--brand-name", TenantBrand.NameProblem);
            var (logoChange, newLogo) = Clearable(parse.GetValue(brandLogoUrl), "--brand-logo-url", TenantBrand.LogoUrlProblem);
            var result = await ctx.Get<TenantConnection>().UpdateAsync(Id(parse.GetValue(tenant)), t => t with
            {
                DisplayName = newName?.Trim() ?? t.DisplayName,
                ParentAccount = newParent is null ? t.ParentAccount : newParent.Trim() is "none" or "" ? null : newParent.Trim(),
                MailgunAccountId = newAccount is null ? t.MailgunAccountId : newAccount.Trim() is "none" or "" ? null : newAccount.Trim(),
                AppUrl = app ?? t.AppUrl,
                Notifications = Notifications(t, stopNotifications, newNotificationUrl, newSecret),
                BrandName = brandChange ? newBrand : t.BrandName,
                BrandLogoUrl = logoChange ? (newLogo is null ? null : new Uri(newLogo)) : t.BrandLogoUrl,
                UseMailgunValidation = parse.GetValue(mailgunValidation) is { } validation ? validation == "on" : t.UseMailgunValidation,
            }, OpsCommands.ActorOf(parse.GetValue(actor)), token).ConfigureAwait(false);
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new { tenant = result.Tenant.Id, changed = result.RegistryChanged, parentAccount = result.Tenant.ParentAccount, name = result.Tenant.DisplayName });
            }
            else
            {
                ctx.Output.Text(result.RegistryChanged ? $"tenant {result.Tenant.Id} updated" : $"tenant {result.Tenant.Id}: nothing to change");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>
    /// An optional setting of <c>tenant set</c>: not given (no change), 'none' (cleared), or a value <paramref name="problem"/>
    /// accepts (trimmed); anything else is a usage error naming the option.
    /// </summary>
    private static (bool Change, string? Value) Clearable(string? given, string option, Func<string?, string?> problem)
    {
        if (given is null)
        {
            return (false, null);
        }

        string value = given.Trim();
        if (value is "none")
        {
            return (true, null);
        }

        return problem(value) is { } why ? throw new OpsException(ExitCodes.Usage, $"{option}: {why}") : (true, value);
    }

    /// <summary>A tenant's notification settings after <c>tenant set</c>: a URL needs a secret (given now or kept from before).</summary>
    private static TenantNotifications? Notifications(Tenant current, bool stop, Uri? url, string? secret)
    {
        if (stop)
        {
            return null;
        }

        if (url is null && secret is null)
        {
            return current.Notifications;
        }

        var next = new TenantNotifications(url ?? current.Notifications?.Url, secret ?? current.Notifications?.Secret);
        if (next.Url is not null && string.IsNullOrEmpty(next.Secret))
        {
            throw new OpsException(ExitCodes.Usage, "a notification URL needs a signing secret: add --notification-secret-file <file> (or '-' for standard input)");
        }

        return next;
    }

    private static Command AddDomain(OpsRuntime runtime)
    {
        var tenant = TenantOption();
        var domain = new Option<string>("--domain") { Description = "The sending domain to add (it must exist in the tenant's Mailgun account).", Required = true };
        var region = OpsCommands.Region();
        region.Description = "Mailgun region of the domain: us or eu (default: the tenant's).";
        var functionKeyFile = FunctionKeyFile();
        var skip = new Option<bool>("--skip-mailgun-setup") { Description = "Only register the domain: its webhooks and the route are set up elsewhere." };
        var actor = OpsCommands.Actor();
        var command = new Command("add-domain", "Add a sending domain to a tenant: checked at Mailgun, claimed in the registry, then its webhooks and the tenant's reply route.")
        {
            tenant, domain, region, functionKeyFile, skip, actor,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            Registry(ctx);
            bool skipSetup = parse.GetValue(skip);
            string? functionKey = skipSetup ? null : await SecretInput.FunctionKeyAsync(ctx, parse.GetValue(functionKeyFile), token).ConfigureAwait(false);
            if (!skipSetup && functionKey is null)
            {
                throw new OpsException(ExitCodes.Configuration, $"no function key: give --function-key-file <file> or set {SecretInput.FunctionKeyVariable} (or --skip-mailgun-setup)");
            }

            string id = Id(parse.GetValue(tenant));
            var stored = await Registry(ctx).GetAsync(id, token).ConfigureAwait(false);
            var mailgunRegion = parse.GetValue(region) ?? stored?.Region ?? MailgunRegion.Us;
            var result = await ctx.Get<TenantConnection>().AddDomainAsync(id, new TenantDomain(parse.GetValue(domain)!, mailgunRegion), functionKey, skipSetup,
                OpsCommands.ActorOf(parse.GetValue(actor)), token).ConfigureAwait(false);
            Print(ctx, "add-domain", result, functionKey is not null);
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command RemoveDomain(OpsRuntime runtime)
    {
        var tenant = TenantOption();
        var domain = new Option<string>("--domain") { Description = "The sending domain to remove.", Required = true };
        var skip = new Option<bool>("--skip-mailgun") { Description = "Do not touch Mailgun (e.g. the domain was deleted there)." };
        var actor = OpsCommands.Actor();
        var command = new Command("remove-domain", "Remove a sending domain: our URLs leave its webhooks, the tenant's route stops matching it, the registry releases it. The DND data stays the tenant's.")
        {
            tenant, domain, skip, actor,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            Registry(ctx);
            var result = await ctx.Get<TenantConnection>().RemoveDomainAsync(Id(parse.GetValue(tenant)), parse.GetValue(domain)!, parse.GetValue(skip),
                OpsCommands.ActorOf(parse.GetValue(actor)), token).ConfigureAwait(false);
            Print(ctx, "remove-domain", result, withKey: false);
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command RotateSigningKey(OpsRuntime runtime)
    {
        var tenant = TenantOption();
        var fromFile = SecretInput.FileOption("--from-file", "Take the new key from this file, after rotating it in Mailgun's dashboard (Sending > Webhooks).");
        var fetch = new Option<bool>("--fetch") { Description = "Read the key Mailgun signs with now (after a rotation in the dashboard, or to finish a rotation whose store failed)." };
        var actor = OpsCommands.Actor();
        var command = new Command("rotate-signing-key",
            "Replace the tenant's webhook signing key: by default Mailgun makes a new one (POST /v5/accounts/http_signing_key). The old key is kept, retired, and verifies Mailgun's retries until Webhooks:MaxSignatureAge has passed.")
        {
            tenant, fromFile, fetch, actor,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            Registry(ctx);
            string? file = parse.GetValue(fromFile);
            if (file is not null && parse.GetValue(fetch))
            {
                throw new OpsException(ExitCodes.Usage, "--from-file and --fetch exclude each other");
            }

            var source = file is not null ? SigningKeySource.Given : parse.GetValue(fetch) ? SigningKeySource.Fetch : SigningKeySource.Regenerate;
            string? given = file is null ? null : await SecretInput.ReadAsync(ctx, file, "new webhook signing key", stdinByDefault: false, "--from-file", token).ConfigureAwait(false);
            var rotation = await ctx.Get<TenantConnection>().RotateSigningKeyAsync(Id(parse.GetValue(tenant)), source, given, OpsCommands.ActorOf(parse.GetValue(actor)), token).ConfigureAwait(false);
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new
                {
                    tenant = rotation.Tenant.Id,
                    changed = rotation.Changed,
                    source = source.ToString().ToLowerInvariant(),
                    currentKey = rotation.CurrentKeyId,
                    retiredKeys = rotation.RetiredKeyIds,
                    retiredKeysVerifyUntil = rotation.OldKeysVerifyUntil,
                    droppedKeys = rotation.DroppedKeyIds,
                });
            }
            else if (!rotation.Changed)
            {
                ctx.Output.Text($"tenant {rotation.Tenant.Id}: signing key {rotation.CurrentKeyId} is already the one Mailgun uses: nothing changed");
            }
            else
            {
                ctx.Output.Text($"tenant {rotation.Tenant.Id}: signing key {rotation.CurrentKeyId} is current");
                if (rotation.RetiredKeyIds.Count > 0)
                {
                    ctx.Output.Text($"retired {string.Join(", ", rotation.RetiredKeyIds)}: still verifies Mailgun's retries until {Output.Time(rotation.OldKeysVerifyUntil)}, then is dropped");
                }

                if (rotation.DroppedKeyIds.Count > 0)
                {
                    ctx.Output.Text($"dropped {string.Join(", ", rotation.DroppedKeyIds)} (retired longer than Webhooks:MaxSignatureAge ago)");
                }

                ctx.Output.Progress("every instance of the app reads the new key within Tenants:CacheLifetime; until then events signed with it get 401, which Mailgun retries");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command Disconnect(OpsRuntime runtime)
    {
        var tenant = TenantOption();
        var appUrl = AppUrlOption("The app URL the tenant was connected to (default: the one stored).");
        var skip = new Option<bool>("--skip-mailgun") { Description = "Only forget the API key (e.g. Mailgun already refuses it); the webhooks and route stay at Mailgun." };
        var actor = OpsCommands.Actor();
        var command = new Command("disconnect",
            "Disconnect a tenant: remove our URLs from its webhooks and its reply routes at Mailgun, then forget its API key. Signing keys (for Mailgun's retries), domains and DND data stay.")
        {
            tenant, appUrl, skip, actor,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            Registry(ctx);
            var result = await ctx.Get<TenantConnection>().DisconnectAsync(Id(parse.GetValue(tenant)), AppUrl(parse.GetValue(appUrl)), parse.GetValue(skip),
                OpsCommands.ActorOf(parse.GetValue(actor)), token).ConfigureAwait(false);
            Print(ctx, "disconnect", result, withKey: false);
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command Rewrap(OpsRuntime runtime)
    {
        var actor = OpsCommands.Actor();
        var command = new Command("rewrap", "After a key-encryption key rotation (Tenants__ActiveKeyId): re-seal every secret's data key with the active key. No secret is decrypted.") { actor };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var registry = Registry(ctx);
            var (rewrapped, skipped) = await registry.RewrapAsync(OpsCommands.ActorOf(parse.GetValue(actor)), token).ConfigureAwait(false);
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new { rewrapped, skipped });
            }
            else
            {
                ctx.Output.Text($"{rewrapped} row(s) re-sealed with the active key-encryption key" + (skipped > 0 ? $"; {skipped} changed meanwhile: run it again" : ""));
            }

            return skipped > 0 ? ExitCodes.Problems : ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command Audit(OpsRuntime runtime)
    {
        var tenant = new Option<string?>("--tenant") { Description = "The tenant whose changes to list." };
        var parent = new Option<string?>("--parent-account") { Description = "Or the parent account whose changes to list." };
        var limit = new Option<int>("--limit") { Description = "At most this many records, newest first (default 50).", DefaultValueFactory = _ => 50 };
        var command = new Command("audit", "Who changed a tenant (or parent account), when and what: newest first, never a secret (JSON Lines with --json).") { tenant, parent, limit };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            string scope = parse.GetValue(tenant) is { Length: > 0 } t ? Id(t)
                : parse.GetValue(parent) is { Length: > 0 } p ? "parent:" + Id(p)
                : throw new OpsException(ExitCodes.Usage, "name the tenant (--tenant) or the parent account (--parent-account)");
            var rows = new List<string?[]>();
            int n = 0;
            await foreach (var record in Registry(ctx).AuditTrailAsync(scope, token).ConfigureAwait(false))
            {
                if (n++ >= parse.GetValue(limit))
                {
                    break;
                }

                string detail = UrlMask.InText(record.Detail);
                if (ctx.Output.Json)
                {
                    ctx.Output.Line(new { tenant = record.Tenant, at = record.At, actor = record.Actor, action = record.Action, detail });
                }
                else
                {
                    rows.Add([Output.Time(record.At), record.Actor, record.Action, detail]);
                }
            }

            if (!ctx.Output.Json)
            {
                ctx.Output.Table(["AT", "ACTOR", "ACTION", "DETAIL"], rows);
            }

            return n == 0 ? ExitCodes.NotFound : ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command Parent(OpsRuntime runtime)
    {
        var parent = new Command("parent", "Parent (primary) Mailgun accounts whose key signs parent-signature for their subaccounts' events.");
        var id = new Option<string>("--id") { Description = "An id for the parent account (letters, digits, '-', '_').", Required = true };
        var region = OpsCommands.Region();
        region.Description = "Mailgun region of the primary account: us or eu (default us).";
        var apiKeyFile = SecretInput.FileOption("--api-key-file", "File holding the primary account's private API key (default: standard input).");
        var actor = OpsCommands.Actor();
        var add = new Command("add", "Add or update a parent account: its API key is checked, its webhook signing key read from Mailgun and stored (sealed). Tenants trust it with --parent-account.")
        {
            id, region, apiKeyFile, actor,
        };
        add.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            SecretInput.RefuseCommandLineKey(parse, runtime, "tenant parent add");
            Registry(ctx);
            string apiKey = await SecretInput.ReadAsync(ctx, parse.GetValue(apiKeyFile), "primary account's private API key", stdinByDefault: true, "--api-key-file", token).ConfigureAwait(false);
            var (saved, changed) = await ctx.Get<TenantConnection>().SaveParentAsync(parse.GetValue(id)!, parse.GetValue(region) ?? MailgunRegion.Us, apiKey,
                OpsCommands.ActorOf(parse.GetValue(actor)), token).ConfigureAwait(false);
            PrintParent(ctx, saved, changed);
            return ExitCodes.Ok;
        }, ct));
        var showId = new Option<string>("--id") { Description = "The parent account.", Required = true };
        var show = new Command("show", "A parent account: region, key ids, API key set or not. Never a secret.") { showId };
        show.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            string parentId = Id(parse.GetValue(showId));
            var found = await Registry(ctx).GetParentAsync(parentId, token).ConfigureAwait(false)
                ?? throw new OpsException(ExitCodes.NotFound, $"no parent account '{parentId}': add it with mailgun-ops tenant parent add --id {parentId}");
            PrintParent(ctx, found, null);
            return ExitCodes.Ok;
        }, ct));
        parent.Subcommands.Add(add);
        parent.Subcommands.Add(show);
        return parent;
    }

    private static void PrintParent(OpsContext ctx, ParentAccount parent, bool? changed)
    {
        var keys = parent.SigningKeys.Select(k => new { id = k.Id, current = k.RetiredAt is null, retiredAt = k.RetiredAt }).ToList();
        if (ctx.Output.Json)
        {
            ctx.Output.Document(new { parentAccount = parent.Id, changed, region = TenantRegistry.RegionName(parent.Region), apiKey = parent.ApiKey is null ? "none" : "set", signingKeys = keys });
            return;
        }

        if (changed is { } c)
        {
            ctx.Output.Text(c ? $"parent account {parent.Id} saved" : $"parent account {parent.Id}: nothing to change");
        }

        ctx.Output.Text($"parent account:  {parent.Id}");
        ctx.Output.Text($"region:          {TenantRegistry.RegionName(parent.Region)}");
        ctx.Output.Text($"api key:         {(parent.ApiKey is null ? "none" : "set")}");
        ctx.Output.Text($"signing keys:    {string.Join(", ", keys.Select(k => k.current ? $"{k.id} (current)" : $"{k.id} (retired {Output.Time(k.retiredAt)})"))}");
    }

    /// <summary>The outcome of connect, add-domain, remove-domain and disconnect: state, URLs (masked), what changed at Mailgun.</summary>
    private static void Print(OpsContext ctx, string command, TenantOperationResult result, bool withKey)
    {
        var t = result.Tenant;
        // The function key is never printed: where it goes, the URL shows "?code=***".
        string? events = result.EventsUrl is { } e ? UrlMask.Mask(withKey ? e.AbsoluteUri + "?code=key" : e.AbsoluteUri) : null;
        string? inbound = result.InboundUrl is { } i ? UrlMask.Mask(withKey ? i.AbsoluteUri + "?code=key" : i.AbsoluteUri) : null;
        if (ctx.Output.Json)
        {
            ctx.Output.Document(new
            {
                tenant = t.Id,
                command,
                state = TenantRegistry.StateName(t.State),
                registryChanged = result.RegistryChanged,
                mailgunChanged = result.Mailgun.ChangedSomething,
                domains = DomainViews(t.Domains),
                signingKey = t.CurrentSigningKey?.Id,
                signingKeys = t.SigningKeys.Select(k => k.Id).ToList(),
                apiKey = t.ApiKey is null ? "none" : "set",
                shard = t.Shard,
                eventsUrl = events,
                inboundUrl = inbound,
                mailgun = new
                {
                    webhooks = result.Mailgun.Webhooks.Select(w => new { domain = w.Domain, webhooks = SetupCommands.WebhookViews(w.Plans) }),
                    routes = result.Mailgun.Routes.Select(r => new { region = TenantRegistry.RegionName(r.Region), action = r.Plan.Action, id = r.Plan.Id, route = SetupCommands.RouteView(r.Plan.Route) }),
                    notes = result.Mailgun.Notes,
                },
            });
            return;
        }

        var o = ctx.Output;
        o.Text($"tenant {t.Id}: {TenantRegistry.StateName(t.State)}{(result.RegistryChanged || result.Mailgun.ChangedSomething ? "" : " (nothing to change)")}");
        o.Text($"domains:       {string.Join(", ", t.Domains.Select(d => $"{d.Name} ({TenantRegistry.RegionName(d.Region)})"))}");
        o.Text($"signing keys:  {string.Join(", ", t.SigningKeys.Select(k => k.Id + (k.RetiredAt is null ? "" : " (retired)")))}");
        o.Text($"api key:       {(t.ApiKey is null ? "none (forgotten)" : "set")}");
        o.Text($"storage shard: {t.Shard}");
        if (events is not null && command != "disconnect")
        {
            o.Text($"webhook URL:   {events}");
            o.Text($"inbound URL:   {inbound}");
        }

        foreach (var w in result.Mailgun.Webhooks)
        {
            o.Text("");
            o.Text($"webhooks of {w.Domain}:");
            SetupCommands.WebhookTable(o, w.Plans);
        }

        foreach (var r in result.Mailgun.Routes)
        {
            o.Text("");
            o.Text($"reply route ({TenantRegistry.RegionName(r.Region)}) {r.Plan.Action}" + (r.Plan.Route.Expression.Length > 0 ? ": " + SetupCommands.RouteText(r.Plan.Route) : ""));
        }

        foreach (string note in result.Mailgun.Notes)
        {
            o.Progress("note: " + note);
        }
    }

    private static IEnumerable<object> DomainViews(IEnumerable<TenantDomain> domains) => domains.Select(d => new { name = d.Name, region = TenantRegistry.RegionName(d.Region) });

    private static TenantRegistry Registry(OpsContext ctx)
    {
        var registry = ctx.Get<TenantRegistry>();
        return registry.Enabled ? registry
            : throw new OpsException(ExitCodes.Configuration, $"the tenant registry is off: set '{TenantsOptions.Section}__KeyEncryptionKeys__k1' (the key-encryption key, from Key Vault) in the environment");
    }

    private static string Id(string? id) => TenantId.Parse(id) ?? throw new OpsException(ExitCodes.Usage, TenantId.Problem(id));

    private static Uri? AppUrl(string? text)
    {
        if (text is null)
        {
            return null;
        }

        return TenantUrls.ParseAppUrl(text, out string? problem) ?? throw new OpsException(ExitCodes.Usage, "--app-url: " + problem);
    }
}
