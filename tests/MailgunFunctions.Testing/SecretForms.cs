using System.Text;

namespace MailgunFunctions.Testing;

/// <summary>
/// The forms in which a secret can reach text that people read (logs, CLI output, answers, queue messages): plain,
/// URL-encoded (a query string), base64 (a header, a blob of JSON), and as Mailgun's Basic authorization value
/// (<c>api:&lt;key&gt;</c> in base64). A search for leaks searches all of them.
/// </summary>
public static class SecretForms
{
    public static IEnumerable<string> Of(string secret) =>
        new[] { secret, Uri.EscapeDataString(secret), Base64(secret), Base64("api:" + secret) }.Distinct(StringComparer.Ordinal);

    /// <summary>Every form of every secret found in <paramref name="text"/>, as a short prefix of the secret and the form's name (never the secret).</summary>
    public static List<string> FoundIn(string text, IEnumerable<string> secrets)
    {
        var found = new List<string>();
        foreach (string secret in secrets.Where(s => s.Length > 0))
        {
            string[] names = ["plain", "URL-encoded", "base64", "Basic authorization"];
            var forms = new[] { secret, Uri.EscapeDataString(secret), Base64(secret), Base64("api:" + secret) };
            for (int i = 0; i < forms.Length; i++)
            {
                if (text.Contains(forms[i], StringComparison.Ordinal))
                {
                    found.Add($"{secret[..Math.Min(6, secret.Length)]}… ({names[i]})");
                }
            }
        }

        return found;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
