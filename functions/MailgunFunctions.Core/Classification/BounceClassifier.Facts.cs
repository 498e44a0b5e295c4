namespace MailgunFunctions.Classification;

// The signals of one failure, read once.
public sealed partial class BounceClassifier
{
    /// <summary>The signals of one failure, read once (not readonly only so that the words can be added in place).</summary>
    private struct Facts
    {
        public Facts(in ClassificationInput input, int maxScanned)
        {
            Code = input.Code is 0 ? null : input.Code;
            Severity = input.Severity;
            Reason = input.Reason;
            BounceType = input.BounceType;
            Words = default;

            // Mailgun's own codes (498, 602...) are not SMTP answers; after retries the last SMTP code may be in last-code.
            SmtpCode = input.Code is >= 400 and < 600 ? input.Code.Value
                : input.LastCode is >= 400 and < 600 ? input.LastCode.Value
                : LeadingSmtpCode(input.Message) ?? LeadingSmtpCode(input.LastMessage) ?? 0;

            if (EnhancedStatusCode.TryParse(input.EnhancedCode, out var e) || EnhancedStatusCode.TryParse(input.BounceCode, out e)
                || EnhancedStatusCode.TryFind(Capped(input.Message, maxScanned), out e)
                || EnhancedStatusCode.TryFind(Capped(input.Description, maxScanned), out e)
                || EnhancedStatusCode.TryFind(Capped(input.LastMessage, maxScanned), out e))
            {
                Enhanced = e;
                EnhancedText = input.EnhancedCode is { } given && EnhancedStatusCode.TryParse(given, out _) ? given.Trim() : e.Text;
            }
        }

        public int? Code { get; }
        public int SmtpCode { get; }
        public EnhancedStatusCode? Enhanced { get; }
        public string? EnhancedText { get; }

        /// <summary>The basic code as text, for explanations (one string per code, kept).</summary>
        public readonly string SmtpCodeText => SmtpCodeTexts[SmtpCode - 400];
        /// <summary>A field, not a property: read through <c>in</c> without copying its nine slots.</summary>
        public WordFindings Words;
        private string? Severity { get; }
        private string? Reason { get; }
        private string? BounceType { get; }

        /// <summary>The server answered with a transient code (4xx or class 4).</summary>
        public readonly bool TransientCode => Enhanced is { Class: 4 } || SmtpCode is >= 400 and < 500;

        public readonly bool HasServerCode => Enhanced is not null || SmtpCode != 0;

        /// <summary>The failure is final: a 5xx answer, or Mailgun's severity permanent.</summary>
        public readonly bool PermanentFailure => SeverityIs("permanent") || SmtpCode is >= 500 and < 600 || Enhanced is { Class: 5 };

        /// <summary>Mailgun gave up after its retry window: <c>reason: old</c>, seen with its codes 602 and 616.</summary>
        public readonly bool GaveUpAfterRetries => ReasonIs("old") || Code is 602 or 616;

        public readonly bool ReasonIs(string value) => Is(Reason, value);

        public readonly bool SeverityIs(string value) => Is(Severity, value);

        public readonly bool BounceTypeIs(string value) => Is(BounceType, value);

        private static readonly string[] SmtpCodeTexts = Enumerable.Range(400, 200).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        /// <summary>"550 5.1.1 ..." or "550-5.7.1 ...": the code an operator pastes with the message.</summary>
        private static int? LeadingSmtpCode(string? text)
        {
            if (text is null)
            {
                return null;
            }

            // A DSN's Diagnostic-Code ("smtp; 550 5.1.1 ...") and Exchange's NDR text ("#550 5.1.1 ...") put a prefix first.
            var s = text.AsSpan().TrimStart();
            if (s.StartsWith("smtp;", StringComparison.OrdinalIgnoreCase))
            {
                s = s[5..].TrimStart();
            }

            s = s.TrimStart('#');
            return s.Length >= 3 && s[0] is '4' or '5' && char.IsAsciiDigit(s[1]) && char.IsAsciiDigit(s[2])
                && (s.Length == 3 || s[3] is ' ' or '-')
                ? (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0')
                : null;
        }
    }
}
