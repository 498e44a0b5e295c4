namespace MailgunFunctions.Testing;

/// <summary>What the export's tests need of the fake beyond the lists: an account whose key Mailgun no longer accepts.</summary>
public sealed partial class MailgunFake
{
    /// <summary>
    /// Revokes the account's API key, as its owner does in Mailgun's control panel: every request with it is then
    /// answered 401, as for a key Mailgun never issued. The account keeps its domains (no other key may use them).
    /// </summary>
    public void RevokeApiKey(FakeAccount account)
    {
        ArgumentNullException.ThrowIfNull(account);
        _accountsByAuthorization.TryRemove(Authorization(account.ApiKey), out _);
    }
}
