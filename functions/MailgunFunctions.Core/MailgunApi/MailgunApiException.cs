using System.Net;

namespace MailgunFunctions.MailgunApi;

/// <summary>Mailgun's API answered with an error that retrying does not fix (or retries ran out). The message says what to do.</summary>
public sealed class MailgunApiException : Exception
{
    public MailgunApiException(string message, HttpStatusCode? statusCode = null, string? domain = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        Domain = domain;
    }

    public MailgunApiException()
    {
    }

    public MailgunApiException(string message)
        : base(message)
    {
    }

    public MailgunApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status Mailgun answered, or null for network errors and unreadable answers.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The Mailgun domain asked about.</summary>
    public string? Domain { get; }

    /// <summary>No API key is known for the account: nothing was sent to Mailgun; the message says where to set one.</summary>
    public bool IsMissingApiKey { get; init; }

    /// <summary>401 or 403: a setting is wrong; retrying cannot help.</summary>
    public bool IsAuthenticationFailure => StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
}
