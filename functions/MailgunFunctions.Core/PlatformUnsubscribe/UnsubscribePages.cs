using System.Net;
using System.Text;

namespace MailgunFunctions.PlatformUnsubscribe;

/// <summary>An HTML answer: status, body, and the security headers every unsubscribe page carries.</summary>
public sealed record HtmlPage(int StatusCode, string Html)
{
    /// <summary>
    /// Personal pages must not be cached by browsers or proxies, framed (clickjacking the confirm button), or run
    /// anything: the pages are plain HTML with one inline style and forms that post back to this site.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> SecurityHeaders = new Dictionary<string, string>
    {
        ["Cache-Control"] = "no-store",
        ["Pragma"] = "no-cache",
        ["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ["X-Frame-Options"] = "DENY",
        ["X-Content-Type-Options"] = "nosniff",
        ["Referrer-Policy"] = "no-referrer",
    };
}

/// <summary>The pages people see: readable on a phone, usable without JavaScript, one clear button each.</summary>
public static class UnsubscribePages
{
    public static HtmlPage Confirm(UnsubscribeRequest request, string linkPath) => new(200, Layout(
        "Unsubscribe",
        $"""
        <h1>Unsubscribe?</h1>
        <p>Stop emails from <strong>{Encode(request.Tenant)}</strong> to <strong>{Encode(MaskAddress(request.Address))}</strong>.</p>
        <form method="post" action="{Encode(linkPath)}">
          <input type="hidden" name="action" value="unsubscribe">
          <button type="submit" id="confirm">Unsubscribe</button>
        </form>
        <p class="small">Nothing changes until you press the button.</p>
        """));

    public static HtmlPage Done(UnsubscribeRequest request, string linkPath) => new(200, Layout(
        "Unsubscribed",
        $"""
        <h1 id="done">You are unsubscribed</h1>
        <p><strong>{Encode(MaskAddress(request.Address))}</strong> will get no more emails from <strong>{Encode(request.Tenant)}</strong>.</p>
        <form method="post" action="{Encode(linkPath)}/undo">
          <button type="submit" id="undo" class="secondary">Undo: subscribe me again</button>
        </form>
        """));

    public static HtmlPage Resubscribed(UnsubscribeRequest request, string linkPath) => new(200, Layout(
        "Subscribed again",
        $"""
        <h1 id="resubscribed">You are subscribed again</h1>
        <p><strong>{Encode(MaskAddress(request.Address))}</strong> will get emails from <strong>{Encode(request.Tenant)}</strong> again.</p>
        <form method="post" action="{Encode(linkPath)}">
          <input type="hidden" name="action" value="unsubscribe">
          <button type="submit" id="confirm" class="secondary">Unsubscribe after all</button>
        </form>
        """));

    /// <summary>The undo could not restore sending because another reason (a bounce, a complaint) still blocks it.</summary>
    public static HtmlPage StillBlocked(UnsubscribeRequest request) => new(200, Layout(
        "Unsubscribe removed",
        $"""
        <h1 id="still-blocked">Your unsubscribe is removed</h1>
        <p>Emails to <strong>{Encode(MaskAddress(request.Address))}</strong> stay paused for another reason (for example, messages could not be delivered). The sender can look into it.</p>
        """));

    public static HtmlPage Invalid() => new(400, Layout(
        "Link not valid",
        """
        <h1 id="error">This link is not valid</h1>
        <p>It may have been cut short or changed. Please open the unsubscribe link from the email again.</p>
        """));

    public static HtmlPage Expired() => new(404, Layout(
        "Link no longer valid",
        """
        <h1 id="error">This link is no longer valid</h1>
        <p>Please use the unsubscribe link in a more recent email, or reply to the email and ask to be removed.</p>
        """));

    public static HtmlPage BadRequest() => new(400, Layout(
        "Nothing to do",
        """
        <h1 id="error">Nothing was changed</h1>
        <p>Please use the button on the unsubscribe page.</p>
        """));

    public static HtmlPage Unavailable() => new(503, Layout(
        "Please try again",
        """
        <h1 id="error">Please try again in a minute</h1>
        <p>We could not record your choice just now. Nothing was lost; please press the button again shortly.</p>
        """));

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

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Layout(string title, string body)
    {
        var html = new StringBuilder();
        html.Append($$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex, nofollow">
            <title>{{Encode(title)}}</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; padding: 2rem 1rem; background: #f6f7f9; color: #1d2330; line-height: 1.5; }
            main { max-width: 32rem; margin: 0 auto; background: #fff; border-radius: 12px; padding: 1.5rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
            h1 { font-size: 1.4rem; margin-top: 0; }
            button { font: inherit; font-size: 1.05rem; padding: .75rem 1.25rem; border-radius: 8px; border: 0; background: #1b5fd6; color: #fff; cursor: pointer; min-height: 44px; }
            button.secondary { background: #e7eaf0; color: #1d2330; }
            button:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
            .small { font-size: .9rem; color: #4b5563; }
            </style>
            </head>
            <body>
            <main>
            {{body}}
            </main>
            </body>
            </html>
            """);
        return html.ToString();
    }
}
