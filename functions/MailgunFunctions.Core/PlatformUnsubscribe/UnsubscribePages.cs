using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace MailgunFunctions.PlatformUnsubscribe;

/// <summary>An HTML answer: status, body, and the security headers every unsubscribe page carries.</summary>
public sealed record HtmlPage(int StatusCode, string Html)
{
    /// <summary>
    /// Personal pages must not be cached by browsers or proxies, framed (clickjacking the confirm button), or run
    /// anything: the pages are plain HTML with one inline style, forms that post back to this site, and at most the
    /// tenant's logo from an https URL (no referrer is sent, so the logo's host never sees the link).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> SecurityHeaders = new Dictionary<string, string>
    {
        ["Cache-Control"] = "no-store",
        ["Pragma"] = "no-cache",
        ["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ["X-Frame-Options"] = "DENY",
        ["X-Content-Type-Options"] = "nosniff",
        ["Referrer-Policy"] = "no-referrer",
    };
}

/// <summary>The brand a contact recognises on the page: the tenant's brand name and, when set, its logo (https only).</summary>
public sealed record UnsubscribeBrand(string Name, Uri? Logo = null);

/// <summary>
/// The pages people see: readable on a phone, usable without JavaScript, one clear button each, in the language the
/// browser asks for (<see cref="UnsubscribeTexts.For"/>). Every text and value is HTML-encoded.
/// </summary>
public static class UnsubscribePages
{
    public static HtmlPage Confirm(UnsubscribeTexts t, UnsubscribeRequest request, UnsubscribeBrand brand, string linkPath) => new(200, Layout(
        t, t.ConfirmTitle, brand,
        $"""
        <h1>{Encode(t.ConfirmHeading)}</h1>
        <p>{Fill(t.ConfirmText, request, brand)}</p>
        <form method="post" action="{Encode(linkPath)}">
          <input type="hidden" name="action" value="unsubscribe">
          <button type="submit" id="confirm">{Encode(t.ConfirmButton)}</button>
        </form>
        <p class="small">{Encode(t.ConfirmNote)}</p>
        """));

    public static HtmlPage Done(UnsubscribeTexts t, UnsubscribeRequest request, UnsubscribeBrand brand, string linkPath) => new(200, Layout(
        t, t.DoneTitle, brand,
        $"""
        <h1 id="done">{Encode(t.DoneHeading)}</h1>
        <p>{Fill(t.DoneText, request, brand)}</p>
        {UndoForm(t, linkPath)}
        """));

    /// <summary>The link opened again after the address is unsubscribed: no question asked again, only the undo.</summary>
    public static HtmlPage AlreadyUnsubscribed(UnsubscribeTexts t, UnsubscribeRequest request, UnsubscribeBrand brand, string linkPath) => new(200, Layout(
        t, t.AlreadyTitle, brand,
        $"""
        <h1 id="already">{Encode(t.AlreadyHeading)}</h1>
        <p>{Fill(t.AlreadyText, request, brand)}</p>
        {UndoForm(t, linkPath)}
        """));

    public static HtmlPage Resubscribed(UnsubscribeTexts t, UnsubscribeRequest request, UnsubscribeBrand brand, string linkPath) => new(200, Layout(
        t, t.ResubscribedTitle, brand,
        $"""
        <h1 id="resubscribed">{Encode(t.ResubscribedHeading)}</h1>
        <p>{Fill(t.ResubscribedText, request, brand)}</p>
        <form method="post" action="{Encode(linkPath)}">
          <input type="hidden" name="action" value="unsubscribe">
          <button type="submit" id="confirm" class="secondary">{Encode(t.UnsubscribeAgainButton)}</button>
        </form>
        """));

    /// <summary>The undo could not restore sending because another reason (a bounce, a complaint) still blocks it.</summary>
    public static HtmlPage StillBlocked(UnsubscribeTexts t, UnsubscribeRequest request, UnsubscribeBrand brand) => new(200, Layout(
        t, t.StillBlockedTitle, brand,
        $"""
        <h1 id="still-blocked">{Encode(t.StillBlockedHeading)}</h1>
        <p>{Fill(t.StillBlockedText, request, brand)}</p>
        """));

    public static HtmlPage Invalid(UnsubscribeTexts t) => Problem(400, t, t.InvalidTitle, t.InvalidHeading, t.InvalidText);

    public static HtmlPage Expired(UnsubscribeTexts t) => Problem(404, t, t.ExpiredTitle, t.ExpiredHeading, t.ExpiredText);

    public static HtmlPage BadRequest(UnsubscribeTexts t) => Problem(400, t, t.BadRequestTitle, t.BadRequestHeading, t.BadRequestText);

    public static HtmlPage Unavailable(UnsubscribeTexts t) => Problem(503, t, t.UnavailableTitle, t.UnavailableHeading, t.UnavailableText);

    private static HtmlPage Problem(int status, UnsubscribeTexts t, string title, string heading, string text) => new(status, Layout(
        t, title, null,
        $"""
        <h1 id="error">{Encode(heading)}</h1>
        <p>{Encode(text)}</p>
        """));

    private static string UndoForm(UnsubscribeTexts t, string linkPath) =>
        $"""
        <form method="post" action="{Encode(linkPath)}/undo">
          <button type="submit" id="undo" class="secondary">{Encode(t.UndoButton)}</button>
        </form>
        """;

    /// <summary>A text with the brand as {0} and the masked address as {1}, both encoded and in bold.</summary>
    private static string Fill(string text, UnsubscribeRequest request, UnsubscribeBrand brand) =>
        UnsubscribeTexts.Fill(text, $"<strong class=\"brand-name\">{Encode(brand.Name)}</strong>", $"<strong>{Encode(MaskAddress(request.Address))}</strong>");

    /// <summary>"joan.doe@example.com" → "j•••@e•••.com": enough for people to recognise their address, not enough to read it off a screen.</summary>
    public static string MaskAddress(string address)
    {
        int at = address.LastIndexOf('@');
        if (at <= 0 || at == address.Length - 1)
        {
            return address.Length > 0 ? address[0] + "•••" : "•••";
        }

        string local = address[..at], domain = address[(at + 1)..];
        int dot = domain.LastIndexOf('.');
        string maskedDomain = dot > 0 ? domain[0] + "•••" + domain[dot..] : domain[0] + "•••";
        return local[0] + "•••@" + maskedDomain;
    }

    /// <summary>
    /// Encodes what HTML gives a meaning (&lt; &gt; &amp; quotes) and leaves letters of every script as they are, so the
    /// pages read as text in any language.
    /// </summary>
    internal static string Encode(string text) => Encoder.Encode(text);

    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>The header of a page: the logo (https only; its alt text is the brand) or the brand name.</summary>
    private static string Header(UnsubscribeBrand? brand) => brand switch
    {
        null => "",
        { Logo: { } logo } when Tenants.TenantBrand.ShowsLogo(logo) is { } https =>
            $"""<header><img class="logo" src="{Encode(https.AbsoluteUri)}" alt="{Encode(brand.Name)}"></header>""",
        _ => $"""<header class="brand">{Encode(brand.Name)}</header>""",
    };

    private static string Layout(UnsubscribeTexts t, string title, UnsubscribeBrand? brand, string body)
    {
        var html = new StringBuilder();
        html.Append($$"""
            <!doctype html>
            <html lang="{{Encode(t.Language)}}">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex, nofollow">
            <title>{{Encode(title)}}</title>
            <style>
            *, *::before, *::after { box-sizing: border-box; }
            body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; padding: 2rem 1rem; background: #f6f7f9; color: #1d2330; line-height: 1.5; }
            main { max-width: 32rem; margin: 0 auto; background: #fff; border-radius: 12px; padding: 1.5rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
            h1 { font-size: 1.4rem; margin-top: 0; }
            p, h1, header { overflow-wrap: anywhere; }
            header { margin-bottom: 1rem; }
            header.brand { font-weight: 600; color: #4b5563; }
            img.logo { display: block; max-width: 100%; max-height: 3rem; height: auto; }
            button { font: inherit; font-size: 1.05rem; max-width: 100%; white-space: normal; padding: .75rem 1.25rem; border-radius: 8px; border: 0; background: #1b5fd6; color: #fff; cursor: pointer; min-height: 44px; }
            button.secondary { background: #e7eaf0; color: #1d2330; }
            button:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
            .small { font-size: .9rem; color: #4b5563; }
            </style>
            </head>
            <body>
            <main>
            {{Header(brand)}}
            {{body}}
            </main>
            </body>
            </html>
            """);
        return html.ToString();
    }
}
