using System.Runtime.CompilerServices;
using System.Text;

namespace MailgunFunctions.Classification;

/// <summary>What a phrase in a server's answer says about who is at fault and for how long.</summary>
internal enum WordMeaning
{
    PreviouslyBounced,
    Unsubscribed,
    Complained,
    SenderAuthentication,
    SenderBlocklist,
    SpamContent,
    RateLimited,
    SenderRejected,
    RelayDenied,
    MessageTooLarge,
    Protocol,
    ListMembership,
    /// <summary>A policy or content refusal named only in general terms ("policy reasons", "content"): ours, weakly.</summary>
    SenderPolicy,
    /// <summary>A relay gave up after its retry window ("retry timeout exceeded", "could not be delivered for 5 days").</summary>
    Expired,
    BlockedByRecipient,
    AccountDisabled,
    Moved,
    DomainUnknown,
    UserUnknown,
    MailboxFull,
    /// <summary>The recipient's side is overloaded or loops: receiving too fast, system storage, mail loop.</summary>
    RecipientBusy,
    Greylisted,
    /// <summary>General "try again later" words: they decide only what the codes leave open.</summary>
    Temporary,
    /// <summary>General refusal words ("denied", "blocked", "refused", "rejected"): they name no cause.</summary>
    Refused,
    /// <summary>The refusal is about the recipient address ("Recipient address rejected:"), with no cause of its own.</summary>
    RecipientRefused,
}

/// <summary>
/// The groups of causes, in the order they decide (see <see cref="BounceClassifier"/>): a sender-side cause outranks
/// an expiry, which outranks the recipient's causes, and so on. Within a group the earlier table row wins.
/// </summary>
internal enum CauseGroup
{
    /// <summary>Mailgun's own suppression wording and a few provider markers so specific they outrank every other word.</summary>
    Decisive,
    Sender,
    Expiry,
    Recipient,
    RecipientBusy,
    WeakSender,
    GenericRefusal,
    RecipientRefused,
    GenericTemporary,
}

/// <summary>
/// A phrase found in an answer: <see cref="Rank"/> is its row in the table (lower wins within its group),
/// <see cref="Written"/> the words as the answer wrote them (a prefix phrase extended to the end of its word), kept as a
/// slice of the answer so that only the words an explanation names become strings. The default is <see cref="None"/>.
/// </summary>
internal readonly struct WordsMatch(int rank, ReadOnlyMemory<char> written, WordMeaning meaning)
{
    public static WordsMatch None => default;

    // Kept one higher, so that the default (0) is "nothing found" and empty findings need no filling.
    private readonly int _rankAfter = rank + 1;

    /// <summary>The row in the table; <see cref="int.MaxValue"/> when nothing was found (so that any phrase ranks before it).</summary>
    public int Rank => _rankAfter == 0 ? int.MaxValue : _rankAfter - 1;

    public ReadOnlyMemory<char> Written { get; } = written;

    public WordMeaning Meaning { get; } = meaning;

    public bool Found => _rankAfter != 0;

    /// <summary>The words as written (a new string on each call), or null when nothing was found.</summary>
    public string? Text => Found ? Written.ToString() : null;
}

/// <summary>The best phrase of each <see cref="CauseGroup"/> found in an answer's texts.</summary>
internal struct WordFindings
{
    public const int Groups = 9;

    private Slots _slots;

    /// <summary>No phrase in any group: the default, since an empty <see cref="WordsMatch"/> is <see cref="WordsMatch.None"/>.</summary>
    public static WordFindings Empty => default;

    public readonly WordsMatch this[CauseGroup group] => _slots[(int)group];

    public readonly bool Any
    {
        get
        {
            for (int g = 0; g < Groups; g++)
            {
                if (_slots[g].Found)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>The first group, in deciding order, that holds a phrase; <see cref="WordsMatch.None"/> if none.</summary>
    public readonly WordsMatch Best
    {
        get
        {
            for (int g = 0; g < Groups; g++)
            {
                if (_slots[g].Found)
                {
                    return _slots[g];
                }
            }

            return WordsMatch.None;
        }
    }

    internal void Offer(CauseGroup group, in WordsMatch match)
    {
        if (match.Rank < _slots[(int)group].Rank)
        {
            _slots[(int)group] = match;
        }
    }

    [InlineArray(Groups)]
    private struct Slots
    {
        private WordsMatch _first;
    }
}

/// <summary>
/// The phrases mailbox providers, MTAs, gateways and blocklists put in their answers, each with its meaning; the meaning's
/// <see cref="CauseGroup"/> says how much it decides. At one position of an answer the first matching row wins and covers
/// its words, so "Recipient address rejected" is one phrase, not also "address rejected" and "rejected", and
/// "not accepting mail from" is not also "mail from". A trailing '*' makes a phrase a word prefix ("throttl*" matches
/// throttled, throttling); otherwise a phrase must stand as whole words. Matching is case-insensitive, without
/// lower-casing or copying the answer.
/// </summary>
internal static class ResponseWords
{
    /// <summary>Rows that outrank every group: Mailgun's own wording and provider codes that name the cause exactly.</summary>
    private static readonly HashSet<string> DecisivePhrases = new(StringComparer.Ordinal)
    {
        "previously bounced", "unsubscribed address", "unsubscribed recipient", "marked your messages as spam",
        "resolver.rst.recipsizelimit", "resolver.adr.reciplimit", "resolver.adr*", "resolver.rst*", "senderfilterconfig", "gcdp",
        // The recipient's own block list, named: whatever part of our message it matched ("Header From", "sender address").
        "sender address blocked", "blocked senders", "blocked sender list", "receiver's blacklist", "recipient's blacklist", "user's blacklist",
        // The recipient's own choice, stated outright: it outranks whatever of ours it names ("does not accept mail from your IP").
        "blocked by the recipient", "blocked by recipient", "recipient has blocked", "user has blocked", "has blocked you", "blocked the sender",
        "refused by recipient", "rejected by recipient", "rejected by this user", "does not wish to receive", "not accepting mail from",
        "does not accept mail from", "recipient's setting*", "recipient's filter*", "filtered by the recipient",
    };

    private static readonly (string Phrase, WordMeaning Meaning)[] Table =
    [
        // Decisive: Mailgun's own wording of its suppressions (codes 605, 606, 607) and exact provider markers.
        ("previously bounced", WordMeaning.PreviouslyBounced),
        ("unsubscribed address", WordMeaning.Unsubscribed),
        ("unsubscribed recipient", WordMeaning.Unsubscribed),
        ("marked your messages as spam", WordMeaning.Complained),
        ("resolver.rst.recipsizelimit", WordMeaning.MessageTooLarge), // Exchange: too large for this recipient
        ("resolver.adr.reciplimit", WordMeaning.RateLimited), // Exchange: too many recipients
        ("resolver.adr*", WordMeaning.UserUnknown), // Exchange: the address does not resolve (RecipNotFound, BadPrimary...)
        ("resolver.rst*", WordMeaning.BlockedByRecipient), // Exchange: the recipient restricts who may write to it
        ("senderfilterconfig", WordMeaning.BlockedByRecipient), // Exchange: the recipient's organisation filters our sender
        ("gcdp", WordMeaning.BlockedByRecipient), // Gmail: a rule of the recipient domain's administrator

        // Phrases that contain a word of another group and mean something else: they come first so they cover it.
        ("rejected by recipient's anti-spam", WordMeaning.SpamContent), // the recipient's spam filter judged our content: not its own block
        ("rejected by recipient's antispam", WordMeaning.SpamContent),
        ("rejected by recipient's spam", WordMeaning.SpamContent),
        ("blocked by recipient's anti-spam", WordMeaning.SpamContent),
        ("blocked by recipient's spam", WordMeaning.SpamContent),
        ("insufficient system storage", WordMeaning.RecipientBusy), // RFC 5321 452: the server's disk, not the mailbox
        ("insufficient system resources", WordMeaning.RecipientBusy),
        ("receiving mail at a rate", WordMeaning.RecipientBusy), // Gmail 4.2.1 (also sent as 5.2.1): the recipient gets too much mail
        ("receiving mail too quickly", WordMeaning.RecipientBusy),
        ("receiving mail too fast", WordMeaning.RecipientBusy),
        ("received too much email", WordMeaning.RecipientBusy),
        ("received too much mail", WordMeaning.RecipientBusy),
        ("receive limit", WordMeaning.RecipientBusy), // Exchange 5.2.121/122: the recipient's hourly limit
        ("thread limit", WordMeaning.RecipientBusy),
        ("target ip", WordMeaning.Temporary), // Exchange: "Primary target IP address responded with: 421 ..." (their IP, not ours)
        ("user not listed", WordMeaning.UserUnknown), // Domino: "User not listed in public Name & Address Book"
        ("not listed in", WordMeaning.UserUnknown), // Domino: "User x not listed in Domino Directory"
        ("email quota", WordMeaning.RateLimited), // Gmail relay: our account's quota, not the mailbox's
        ("sending quota", WordMeaning.RateLimited),
        ("has too many messages", WordMeaning.MailboxFull), // web.de: "User has too many messages on the server"
        ("too many messages on", WordMeaning.MailboxFull),
        ("sender address blocked", WordMeaning.BlockedByRecipient), // Mimecast, Proofpoint: the recipient's blocked-senders policy
        ("sender was not authenticated", WordMeaning.BlockedByRecipient), // Exchange 5.7.12: the organisation takes internal mail only
        ("not authenticated for", WordMeaning.BlockedByRecipient),
        ("blocked senders", WordMeaning.BlockedByRecipient),
        ("blocked sender list", WordMeaning.BlockedByRecipient),
        ("receiver's blacklist", WordMeaning.BlockedByRecipient), // 163.com RP:RCL: the recipient's own block list
        ("recipient's blacklist", WordMeaning.BlockedByRecipient),
        ("user's blacklist", WordMeaning.BlockedByRecipient),
        ("recipient's block*", WordMeaning.BlockedByRecipient),
        ("not accepting mail from", WordMeaning.BlockedByRecipient), // before "mail from" (our envelope)
        ("does not accept mail from", WordMeaning.BlockedByRecipient),
        ("rejects mail from", WordMeaning.BlockedByRecipient), // "Recipient rejects mail from this sender"; not decisive: a server's own rule says it too ("rejects mail from dynamic IPs")
        ("refuses mail from", WordMeaning.BlockedByRecipient),
        ("that you are sending to", WordMeaning.BlockedByRecipient), // Gmail: "the user or domain that you are sending to ... has a policy"
        ("on the target address", WordMeaning.BlockedByRecipient), // Yandex: "Policy rejection on the target address"
        ("mailbox size", WordMeaning.MailboxFull), // before "size limit" (message size)
        ("mailbox name", WordMeaning.UserUnknown), // RFC 5321 553 "mailbox name not allowed"
        ("sending for this account", WordMeaning.SenderRejected), // mail.ru: our account may not send
        ("sender address*", WordMeaning.SenderRejected), // before "address rejected", "domain not found", "null mx"
        ("sender domain", WordMeaning.SenderRejected),
        ("sending domain", WordMeaning.SenderRejected),
        ("sender's domain", WordMeaning.SenderRejected),
        ("domain of sender", WordMeaning.SenderRejected),
        ("sender account", WordMeaning.SenderRejected), // before "disabled" (the recipient's account)
        ("outbound sender", WordMeaning.SenderRejected),
        ("invalid sender", WordMeaning.SenderRejected),
        ("sender was rejected", WordMeaning.SenderRejected),
        ("sender refused", WordMeaning.SenderRejected),
        ("permanently deferred", WordMeaning.SenderBlocklist), // Yahoo TSS09
        ("unknown local part", WordMeaning.UserUnknown), // Exim
        ("unknown local-part", WordMeaning.UserUnknown),
        ("may not exist", WordMeaning.UserUnknown), // SmarterMail: "The account or domain may not exist, they may be blacklisted, or ..."
        ("may be blacklisted", WordMeaning.RecipientRefused), // ... a list of guesses, not a statement about our IP
        ("recipient's setting*", WordMeaning.BlockedByRecipient), // mobile carriers: the recipient's own reception filter
        ("recipient's filter*", WordMeaning.BlockedByRecipient),
        ("filtered by the recipient", WordMeaning.BlockedByRecipient),
        ("recipient addresses rejected", WordMeaning.RecipientRefused),
        ("recipient verification failed", WordMeaning.UserUnknown),
        ("verification failed", WordMeaning.SenderRejected), // Exim: "Verification failed for <sender>"
        ("no route found", WordMeaning.DomainUnknown), // Domino: "No route found to domain"
        ("no route to host", WordMeaning.Temporary),
        ("storage limit", WordMeaning.MailboxFull), // before "size limit" and "limit" words
        ("mailbox limit", WordMeaning.MailboxFull),
        ("mailbox exceeds", WordMeaning.MailboxFull),
        ("still undelivered", WordMeaning.Expired), // Sendmail: "Warning: message still undelivered after 4 hours"
        ("recipient is not allowed", WordMeaning.RecipientRefused),
        ("one or more recipients", WordMeaning.RecipientRefused), // Barracuda: "permanent failure for one or more recipients (x:blocked)"

        // Expiry: a relay or Mailgun gave up after its retry window; the answers during the window were transient.
        ("message expired", WordMeaning.Expired),
        ("message has expired", WordMeaning.Expired),
        ("delivery time expired", WordMeaning.Expired),
        ("time expired", WordMeaning.Expired),
        ("delivery expired", WordMeaning.Expired),
        ("attempts expired", WordMeaning.Expired),
        ("queue.expired", WordMeaning.Expired), // Exchange
        ("retry timeout", WordMeaning.Expired), // Exim: "retry timeout exceeded"
        ("retry time exceeded", WordMeaning.Expired),
        ("retry period", WordMeaning.Expired),
        ("failing for a long time", WordMeaning.Expired), // Exim
        ("could not be delivered for", WordMeaning.Expired), // Postfix: "could not be delivered for more than 5 day(s)"
        ("couldn't be delivered for", WordMeaning.Expired),
        ("could not deliver message for", WordMeaning.Expired),
        ("could not send message for", WordMeaning.Expired), // Sendmail warnings
        ("cannot send message for", WordMeaning.Expired), // Sendmail: "Cannot send message for 5 days"
        ("cannot send message within", WordMeaning.Expired),
        ("undeliverable for", WordMeaning.Expired),
        ("in the queue too long", WordMeaning.Expired), // qmail
        ("queue too long", WordMeaning.Expired),
        ("too long in queue", WordMeaning.Expired),
        ("message is older than", WordMeaning.Expired),
        ("older than", WordMeaning.Expired),
        ("maximum delivery time", WordMeaning.Expired),
        ("max delivery time", WordMeaning.Expired),
        ("delivery temporarily suspended", WordMeaning.Expired), // Postfix's last reason when the queue lifetime ends
        ("gave up", WordMeaning.Expired),
        ("giving up", WordMeaning.Expired),
        ("give up", WordMeaning.Expired),
        ("abandoned", WordMeaning.Expired),

        // Greylisting: come back later, by design (Postfix words it as "Recipient address rejected: Greylisted").
        ("greylist*", WordMeaning.Greylisted),
        ("graylist*", WordMeaning.Greylisted),
        ("grey-list*", WordMeaning.Greylisted),
        ("gray-list*", WordMeaning.Greylisted),
        ("grey list*", WordMeaning.Greylisted),
        ("gray list*", WordMeaning.Greylisted),

        // Our sending rate or volume, named outright.
        ("rate limit*", WordMeaning.RateLimited),
        ("rate-limit*", WordMeaning.RateLimited),
        ("ratelimit*", WordMeaning.RateLimited),
        ("unusual rate", WordMeaning.RateLimited),
        ("high rate", WordMeaning.RateLimited),
        ("frequency limit*", WordMeaning.RateLimited), // QQ, 163.com
        ("unusual sending", WordMeaning.RateLimited),

        // Our authentication and DNS (RFC 7372 X.7.23-X.7.27 territory).
        ("dmarc", WordMeaning.SenderAuthentication),
        ("spf", WordMeaning.SenderAuthentication),
        ("openspf", WordMeaning.SenderAuthentication),
        ("dkim", WordMeaning.SenderAuthentication),
        ("domainkeys", WordMeaning.SenderAuthentication),
        ("sender policy framework", WordMeaning.SenderAuthentication),
        ("sender id", WordMeaning.SenderAuthentication),
        ("unauthenticated", WordMeaning.SenderAuthentication),
        ("not authenticated", WordMeaning.SenderAuthentication),
        ("authenticat*", WordMeaning.SenderAuthentication),
        ("auth", WordMeaning.SenderAuthentication),
        ("credentials", WordMeaning.SenderAuthentication),
        ("password", WordMeaning.SenderAuthentication),
        ("log in", WordMeaning.SenderAuthentication),
        ("login", WordMeaning.SenderAuthentication),
        ("spoof*", WordMeaning.SenderAuthentication),
        ("forged", WordMeaning.SenderAuthentication),
        ("reverse dns", WordMeaning.SenderAuthentication),
        ("reverse-dns", WordMeaning.SenderAuthentication),
        ("rdns", WordMeaning.SenderAuthentication),
        ("ptr", WordMeaning.SenderAuthentication),
        ("reverse lookup", WordMeaning.SenderAuthentication),
        ("reverse hostname", WordMeaning.SenderAuthentication),
        ("find your hostname", WordMeaning.SenderAuthentication),
        ("ipv6", WordMeaning.SenderAuthentication), // Microsoft: mail over IPv6 must pass SPF or DKIM
        ("tls is required", WordMeaning.SenderAuthentication),
        ("encryption required", WordMeaning.SenderAuthentication),
        ("requires encryption", WordMeaning.SenderAuthentication),
        ("not verified", WordMeaning.SenderAuthentication), // "Email address is not verified" (our sending identity)
        ("identities failed", WordMeaning.SenderAuthentication),

        // Our IP or domain on a blocklist (named lists and provider codes first).
        ("spamhaus", WordMeaning.SenderBlocklist),
        ("spamcop", WordMeaning.SenderBlocklist),
        ("spamsource", WordMeaning.SenderBlocklist), // Yandex
        ("sorbs", WordMeaning.SenderBlocklist),
        ("cloudmark", WordMeaning.SenderBlocklist),
        ("senderscore", WordMeaning.SenderBlocklist),
        ("senderbase", WordMeaning.SenderBlocklist),
        ("trend micro", WordMeaning.SenderBlocklist),
        ("mail-abuse", WordMeaning.SenderBlocklist),
        ("barracudacentral", WordMeaning.SenderBlocklist),
        ("barracuda reputation", WordMeaning.SenderBlocklist),
        ("ipcheck", WordMeaning.SenderBlocklist), // Proofpoint's lookup page
        ("dnsbl*", WordMeaning.SenderBlocklist),
        ("rbl", WordMeaning.SenderBlocklist),
        ("blocked using", WordMeaning.SenderBlocklist),
        ("blocked by ip", WordMeaning.SenderBlocklist),
        ("blocklist*", WordMeaning.SenderBlocklist),
        ("block list*", WordMeaning.SenderBlocklist),
        ("block listed", WordMeaning.SenderBlocklist),
        ("blacklist*", WordMeaning.SenderBlocklist),
        ("black list*", WordMeaning.SenderBlocklist),
        ("denylist*", WordMeaning.SenderBlocklist),
        ("whitelist*", WordMeaning.SenderBlocklist), // "IP not in whitelist": our IP is not allowed
        ("allowlist*", WordMeaning.SenderBlocklist),
        ("s3150", WordMeaning.SenderBlocklist), // Outlook.com: sending network on its block list
        ("s3140", WordMeaning.SenderBlocklist),
        ("tss0*", WordMeaning.SenderBlocklist), // Yahoo/AOL deferral codes about the sending IP
        ("ts0*", WordMeaning.SenderBlocklist),
        ("ipts0*", WordMeaning.SenderBlocklist),
        ("bl00*", WordMeaning.SenderBlocklist), // Comcast, BlueTie blocklist codes
        ("es0000*", WordMeaning.SenderBlocklist), // Comcast: dynamic/residential sending IP
        ("sc-00*", WordMeaning.SenderBlocklist), // Hotmail legacy reputation codes
        ("dy-00*", WordMeaning.SenderBlocklist), // Hotmail: dynamic IP ranges
        ("ou-00*", WordMeaning.SenderBlocklist), // Outlook.com: sending IP blocked
        ("rp-00*", WordMeaning.RateLimited), // Hotmail: "some messages from x weren't sent... limits per hour"
        ("rtr:*", WordMeaning.SenderBlocklist), // AOL's legacy reputation codes (RTR:BL, RTR:GE...)
        ("rly:*", WordMeaning.SenderBlocklist),
        ("dyn:*", WordMeaning.SenderBlocklist),
        ("hvu:*", WordMeaning.SenderBlocklist),
        ("weren't sent", WordMeaning.SenderBlocklist), // Outlook.com: "messages from [ip] weren't sent"
        ("dynamic ip", WordMeaning.SenderBlocklist),
        ("dynamically", WordMeaning.SenderBlocklist),
        ("residential", WordMeaning.SenderBlocklist),
        ("banned", WordMeaning.SenderBlocklist),

        // Our content.
        ("spam*", WordMeaning.SpamContent),
        ("anti-spam", WordMeaning.SpamContent),
        ("antispam", WordMeaning.SpamContent),
        ("unsolicited", WordMeaning.SpamContent),
        ("junk*", WordMeaning.SpamContent),
        ("bulk mail*", WordMeaning.SpamContent),
        ("virus*", WordMeaning.SpamContent),
        ("trojan", WordMeaning.SpamContent),
        ("eicar*", WordMeaning.SpamContent),
        ("infected", WordMeaning.SpamContent),
        ("malware", WordMeaning.SpamContent),
        ("phishing", WordMeaning.SpamContent),
        ("heuristic*", WordMeaning.SpamContent),
        ("unsafe", WordMeaning.SpamContent),
        ("security issue", WordMeaning.SpamContent),
        ("intent analysis", WordMeaning.SpamContent), // Barracuda
        ("attachment*", WordMeaning.SpamContent),
        ("invalidcontent", WordMeaning.SpamContent), // Exchange CAT.InvalidContent
        ("cs01", WordMeaning.SpamContent), // iCloud: content policy
        ("cs02", WordMeaning.SpamContent),
        ("hm08", WordMeaning.SpamContent),
        ("dt:spm", WordMeaning.SpamContent), // 163.com

        // Our sending rate.
        ("rate of", WordMeaning.RateLimited),
        ("throttl*", WordMeaning.RateLimited),
        ("too many messages", WordMeaning.RateLimited),
        ("too many connections", WordMeaning.RateLimited),
        ("too many concurrent", WordMeaning.RateLimited),
        ("too many sessions", WordMeaning.RateLimited),
        ("too many emails", WordMeaning.RateLimited),
        ("too many mails", WordMeaning.RateLimited),
        ("too many errors", WordMeaning.RateLimited),
        ("too many error", WordMeaning.RateLimited),
        ("too many failed", WordMeaning.RateLimited),
        ("too many unwanted", WordMeaning.RateLimited),
        ("too much mail from", WordMeaning.RateLimited), // Postfix
        ("sent too many", WordMeaning.RateLimited),
        ("sending too fast", WordMeaning.RateLimited),
        ("too fast", WordMeaning.RateLimited),
        ("sending limit*", WordMeaning.RateLimited),
        ("email limit", WordMeaning.RateLimited),
        ("relay limit", WordMeaning.RateLimited), // Gmail SMTP relay limits of our account
        ("daily limit", WordMeaning.RateLimited),
        ("this hour", WordMeaning.RateLimited), // "Too many recipients received this hour"
        ("per connection", WordMeaning.RateLimited),
        ("complaints", WordMeaning.RateLimited),

        // Relaying: the server does not take mail for this domain from us (old MX, or it wants us to authenticate).
        ("relay access", WordMeaning.RelayDenied),
        ("relaying", WordMeaning.RelayDenied),
        ("relay denied", WordMeaning.RelayDenied),
        ("relay not", WordMeaning.RelayDenied),
        ("relay prohibited", WordMeaning.RelayDenied),
        ("not permitted to relay", WordMeaning.RelayDenied),
        ("unable to relay", WordMeaning.RelayDenied),
        ("do not relay", WordMeaning.RelayDenied),
        ("cannot relay", WordMeaning.RelayDenied),
        ("open relay", WordMeaning.RelayDenied),
        ("tenantattribution", WordMeaning.RelayDenied), // Exchange Online 5.7.64
        ("cannot deliver mail for", WordMeaning.RelayDenied), // Haraka: the domain is not one it serves
        ("rcpthosts", WordMeaning.RelayDenied), // qmail: "that domain isn't in my list of allowed rcpthosts"

        // Mailing lists that take posts from members only.
        ("not a member", WordMeaning.ListMembership),
        ("only members", WordMeaning.ListMembership),
        ("members may post", WordMeaning.ListMembership),
        ("allowed to post", WordMeaning.ListMembership),
        ("permitted to post", WordMeaning.ListMembership),
        ("permission to post", WordMeaning.ListMembership), // Google Groups

        // Our message's size.
        ("message size", WordMeaning.MessageTooLarge),
        ("message length", WordMeaning.MessageTooLarge),
        ("too large", WordMeaning.MessageTooLarge),
        ("too big", WordMeaning.MessageTooLarge),
        ("size limit", WordMeaning.MessageTooLarge),
        ("maximum size", WordMeaning.MessageTooLarge),
        ("databytes", WordMeaning.MessageTooLarge), // qmail
        ("mailsize", WordMeaning.MessageTooLarge),

        // Our SMTP client's conversation or the message's format.
        ("syntax error", WordMeaning.Protocol),
        ("protocol violation", WordMeaning.Protocol),
        ("synchronization", WordMeaning.Protocol), // Exim: "SMTP synchronization error"
        ("unrecognized", WordMeaning.Protocol),
        ("unimplemented", WordMeaning.Protocol),
        ("command not implemented", WordMeaning.Protocol),
        ("bad sequence", WordMeaning.Protocol),
        ("mail first", WordMeaning.Protocol),
        ("rcpt first", WordMeaning.Protocol),
        ("pipelin*", WordMeaning.Protocol),
        ("decode", WordMeaning.Protocol),
        ("bare linefeed*", WordMeaning.Protocol),
        ("barelinefeed*", WordMeaning.Protocol),
        ("malformed address", WordMeaning.UserUnknown), // before "malformed" (our message)
        ("malformed recipient", WordMeaning.UserUnknown),
        ("malformed", WordMeaning.Protocol),
        ("line too long", WordMeaning.Protocol),
        ("invalid header*", WordMeaning.Protocol),
        ("invalid mime", WordMeaning.Protocol),
        ("8bit", WordMeaning.Protocol),
        ("identity", WordMeaning.SenderRejected), // Gmail: "No identity changes permitted"
        ("destination domains", WordMeaning.Protocol), // Gmail: "Multiple destination domains per transaction"
        ("per transaction", WordMeaning.Protocol),
        ("journaling", WordMeaning.SenderRejected),

        // Our envelope or message shape.
        ("sender rejected", WordMeaning.SenderRejected),
        ("sender verify", WordMeaning.SenderRejected),
        ("sender verification", WordMeaning.SenderRejected),
        ("envelope sender", WordMeaning.SenderRejected),
        ("from address", WordMeaning.SenderRejected),
        // HELO/EHLO only as the subject of a complaint: "(EHLO)" alone just names the SMTP stage of an answer.
        ("helo command", WordMeaning.SenderRejected),
        ("ehlo command", WordMeaning.SenderRejected),
        ("helo name", WordMeaning.SenderRejected),
        ("ehlo name", WordMeaning.SenderRejected),
        ("helo host*", WordMeaning.SenderRejected),
        ("ehlo host*", WordMeaning.SenderRejected),
        ("helo/ehlo", WordMeaning.SenderRejected),
        ("ehlo/helo", WordMeaning.SenderRejected),
        ("helo argument", WordMeaning.SenderRejected),
        ("invalid helo", WordMeaning.SenderRejected),
        ("bad helo", WordMeaning.SenderRejected),
        ("too many recipients", WordMeaning.SenderRejected), // RFC 5321: a 552 for this is to be retried
        ("starttls", WordMeaning.SenderRejected),
        ("tls required", WordMeaning.SenderRejected),
        ("requires tls", WordMeaning.SenderRejected),
        ("rfc 5322", WordMeaning.SenderRejected), // Gmail: our message is malformed
        ("rfc5322", WordMeaning.SenderRejected),
        ("rfc compliant", WordMeaning.SenderRejected), // Yahoo: "Headers are not RFC compliant"
        ("rfc-compliant", WordMeaning.SenderRejected),
        ("rfc 2822", WordMeaning.SenderRejected),
        ("rfc2822", WordMeaning.SenderRejected),
        ("rfc 822", WordMeaning.SenderRejected),
        ("authorized recipients", WordMeaning.SenderRejected), // Mailgun sandbox: only authorized recipients
        ("message not allowed", WordMeaning.SenderRejected), // Yahoo's prefix for refusals of our message
        ("from header", WordMeaning.SenderRejected),
        ("from: header", WordMeaning.SenderRejected),
        ("header from", WordMeaning.SenderRejected),
        ("date header", WordMeaning.SenderRejected),
        ("permissions to send", WordMeaning.SenderRejected),
        ("send as", WordMeaning.SenderRejected),
        ("authorized to send", WordMeaning.SenderRejected),
        ("external forwarding", WordMeaning.SenderRejected),
        ("unregistered domain*", WordMeaning.SenderRejected),
        ("badmailfrom", WordMeaning.SenderRejected), // qmail

        // Our IP named in general terms: after the specific sender phrases so the rule says what was wrong.
        ("reputation", WordMeaning.SenderBlocklist),
        ("client host", WordMeaning.SenderBlocklist),
        ("ip address", WordMeaning.SenderBlocklist),
        ("your ip", WordMeaning.SenderBlocklist),
        ("the ip", WordMeaning.SenderBlocklist),
        ("this ip", WordMeaning.SenderBlocklist),
        ("from ip", WordMeaning.SenderBlocklist),
        ("ip=*", WordMeaning.SenderBlocklist), // T-Online quotes our IP as "IP=1.2.3.4"
        ("sending ip", WordMeaning.SenderBlocklist),
        ("ip blocked", WordMeaning.SenderBlocklist),
        ("ip is blocked", WordMeaning.SenderBlocklist),
        ("your host", WordMeaning.SenderBlocklist),
        ("your location", WordMeaning.SenderBlocklist),
        ("your network", WordMeaning.SenderBlocklist),
        ("network is on", WordMeaning.SenderBlocklist),
        ("is listed", WordMeaning.SenderBlocklist),
        ("are listed", WordMeaning.SenderBlocklist),
        ("been listed", WordMeaning.SenderBlocklist),
        ("listed at", WordMeaning.SenderBlocklist),
        ("listed on", WordMeaning.SenderBlocklist),
        ("listed by", WordMeaning.SenderBlocklist),

        // Weak signs of our side: policy or content refusals in general terms, our envelope named in passing.
        ("policy reasons", WordMeaning.SenderPolicy),
        ("policy restriction*", WordMeaning.SenderPolicy),
        ("policy violation", WordMeaning.SenderPolicy),
        ("local policy", WordMeaning.SenderPolicy),
        ("security polic*", WordMeaning.SenderPolicy),
        ("policy", WordMeaning.SenderPolicy),
        ("content*", WordMeaning.SenderPolicy),
        ("suspicious", WordMeaning.SenderPolicy),
        ("suspect", WordMeaning.SenderPolicy),
        ("mail from", WordMeaning.SenderPolicy),

        // The recipient (person or organisation) refuses us specifically: a block the recipient set.
        ("blocked by the recipient", WordMeaning.BlockedByRecipient),
        ("blocked by recipient", WordMeaning.BlockedByRecipient),
        ("recipient has blocked", WordMeaning.BlockedByRecipient),
        ("user has blocked", WordMeaning.BlockedByRecipient),
        ("has blocked you", WordMeaning.BlockedByRecipient),
        ("blocked you", WordMeaning.BlockedByRecipient),
        ("blocked the sender", WordMeaning.BlockedByRecipient),
        ("refused by recipient", WordMeaning.BlockedByRecipient),
        ("rejected by recipient", WordMeaning.BlockedByRecipient),
        ("rejected by this user", WordMeaning.BlockedByRecipient),
        ("rejected by destination", WordMeaning.BlockedByRecipient), // Zoho: the recipient domain's filters
        ("does not wish to receive", WordMeaning.BlockedByRecipient),
        ("administrative prohibition", WordMeaning.BlockedByRecipient),
        ("envelope blocked", WordMeaning.BlockedByRecipient), // Mimecast: the recipient's blocked-senders entries
        ("allowed senders", WordMeaning.BlockedByRecipient),
        ("allowed-senders", WordMeaning.BlockedByRecipient),
        ("delivery restriction*", WordMeaning.BlockedByRecipient),
        ("delivery restricted", WordMeaning.BlockedByRecipient),
        ("address is restricted", WordMeaning.BlockedByRecipient),
        ("delivery not authorized", WordMeaning.BlockedByRecipient), // Exchange: the recipient accepts mail from some senders only

        // The mailbox exists no more or is switched off.
        ("accountdisabled*", WordMeaning.AccountDisabled), // Exchange: AccountDisabledException
        ("disabled", WordMeaning.AccountDisabled),
        ("deactivated", WordMeaning.AccountDisabled),
        ("inactive", WordMeaning.AccountDisabled),
        ("suspended", WordMeaning.AccountDisabled),
        ("frozen", WordMeaning.AccountDisabled),
        ("inactivity", WordMeaning.AccountDisabled),
        ("mailbox is locked", WordMeaning.AccountDisabled),
        ("account is locked", WordMeaning.AccountDisabled),
        ("mailbox has been blocked", WordMeaning.AccountDisabled),
        ("account is unavailable", WordMeaning.UserUnknown),
        ("account unavailable", WordMeaning.UserUnknown),
        ("discontinued", WordMeaning.AccountDisabled),
        ("account expired", WordMeaning.AccountDisabled),
        ("account has expired", WordMeaning.AccountDisabled),
        ("expired account", WordMeaning.AccountDisabled),
        ("account closed", WordMeaning.AccountDisabled),
        ("closed account", WordMeaning.AccountDisabled),
        ("mailbox is blocked", WordMeaning.AccountDisabled),
        ("account is blocked", WordMeaning.AccountDisabled),
        ("no longer active", WordMeaning.AccountDisabled),
        ("no longer in use", WordMeaning.AccountDisabled),
        ("no longer available", WordMeaning.AccountDisabled),
        ("account terminated", WordMeaning.AccountDisabled),
        ("account is terminated", WordMeaning.AccountDisabled),
        ("user is terminated", WordMeaning.AccountDisabled),
        ("account has been closed", WordMeaning.AccountDisabled),
        ("account is closed", WordMeaning.AccountDisabled), // before "not accepted" (a refusal that names no cause)
        ("mailbox is closed", WordMeaning.AccountDisabled),
        ("mailbox closed", WordMeaning.AccountDisabled),
        ("account was closed", WordMeaning.AccountDisabled),
        ("mailbox was closed", WordMeaning.AccountDisabled),
        ("mailbox has been closed", WordMeaning.AccountDisabled),
        ("account has been deleted", WordMeaning.AccountDisabled),
        ("mailbox has been deleted", WordMeaning.AccountDisabled),
        ("account has been removed", WordMeaning.AccountDisabled),
        ("mailbox has been removed", WordMeaning.AccountDisabled),

        // The address moved.
        ("has moved", WordMeaning.Moved),
        ("user moved", WordMeaning.Moved),
        ("no longer accepting", WordMeaning.Moved),
        ("no longer accepts", WordMeaning.Moved),

        // The domain cannot receive mail at all.
        ("domain not found", WordMeaning.DomainUnknown),
        ("domain does not exist", WordMeaning.DomainUnknown),
        ("domain doesn't exist", WordMeaning.DomainUnknown),
        ("domain name not found", WordMeaning.DomainUnknown),
        ("no such domain", WordMeaning.DomainUnknown),
        ("unknown domain", WordMeaning.DomainUnknown),
        ("domain unknown", WordMeaning.DomainUnknown),
        ("nonexistent domain", WordMeaning.DomainUnknown),
        ("non-existent domain", WordMeaning.DomainUnknown),
        ("nonexistentdomain", WordMeaning.DomainUnknown), // Exchange SMTPSEND.DNS.NonExistentDomain
        ("infodomainnonexistent", WordMeaning.DomainUnknown),
        ("non-existent host*", WordMeaning.DomainUnknown), // Exim: "all relevant MX records point to non-existent hosts"
        ("find any host", WordMeaning.DomainUnknown), // qmail
        ("find the recipient domain", WordMeaning.DomainUnknown), // Gmail 5.1.2
        ("host not found", WordMeaning.DomainUnknown),
        ("host unknown", WordMeaning.DomainUnknown),
        ("unknown host", WordMeaning.DomainUnknown),
        ("no mx", WordMeaning.DomainUnknown),
        ("null mx", WordMeaning.DomainUnknown),
        ("nullmx", WordMeaning.DomainUnknown),
        ("unrouteable domain", WordMeaning.DomainUnknown),
        ("unroutable domain", WordMeaning.DomainUnknown),
        ("does not accept mail", WordMeaning.DomainUnknown), // RFC 7505 null MX wording
        ("does not accept email", WordMeaning.DomainUnknown),
        ("does not receive mail", WordMeaning.DomainUnknown),
        ("unable to route", WordMeaning.DomainUnknown),
        ("no mail host*", WordMeaning.DomainUnknown),
        ("not accepting mail", WordMeaning.DomainUnknown),
        ("nxdomain", WordMeaning.DomainUnknown),

        // The mailbox does not exist.
        ("user unknown", WordMeaning.UserUnknown),
        ("unknown user", WordMeaning.UserUnknown),
        ("unknown recipient", WordMeaning.UserUnknown),
        ("recipient unknown", WordMeaning.UserUnknown),
        ("unknown mailbox", WordMeaning.UserUnknown),
        ("mailbox unknown", WordMeaning.UserUnknown),
        ("address unknown", WordMeaning.UserUnknown),
        ("addressee unknown", WordMeaning.UserUnknown),
        ("unknown address", WordMeaning.UserUnknown),
        ("is unknown", WordMeaning.UserUnknown),
        ("unknown or illegal alias", WordMeaning.UserUnknown),
        ("no such user", WordMeaning.UserUnknown),
        ("no such mailbox", WordMeaning.UserUnknown),
        ("no such recipient", WordMeaning.UserUnknown),
        ("no such account", WordMeaning.UserUnknown),
        ("no such address", WordMeaning.UserUnknown),
        ("no such person", WordMeaning.UserUnknown),
        ("no such local user", WordMeaning.UserUnknown),
        ("not known", WordMeaning.UserUnknown), // "user not known"
        ("unknown account", WordMeaning.UserUnknown),
        ("mailbox not found", WordMeaning.UserUnknown),
        ("mailbox unavailable", WordMeaning.UserUnknown),
        ("mailbox is unavailable", WordMeaning.UserUnknown),
        ("mailbox not available", WordMeaning.UserUnknown),
        ("mailbox does not exist", WordMeaning.UserUnknown),
        ("mailbox doesn't exist", WordMeaning.UserUnknown),
        ("mailbox cannot be accessed", WordMeaning.UserUnknown),
        ("no mailbox", WordMeaning.UserUnknown),
        ("user not found", WordMeaning.UserUnknown),
        ("recipient not found", WordMeaning.UserUnknown),
        ("account not found", WordMeaning.UserUnknown),
        ("address not found", WordMeaning.UserUnknown),
        ("wasn't found", WordMeaning.UserUnknown),
        ("was not found", WordMeaning.UserUnknown),
        ("couldn't be found", WordMeaning.UserUnknown),
        ("could not be found", WordMeaning.UserUnknown),
        ("unrouteable", WordMeaning.UserUnknown),
        ("unroutable", WordMeaning.UserUnknown),
        ("invalid recipient", WordMeaning.UserUnknown),
        ("invalid mailbox", WordMeaning.UserUnknown),
        ("invalid address", WordMeaning.UserUnknown),
        ("address invalid", WordMeaning.UserUnknown),
        ("invalid user", WordMeaning.UserUnknown),
        ("invalid email", WordMeaning.UserUnknown),
        ("bad destination", WordMeaning.UserUnknown),
        ("bad recipient", WordMeaning.UserUnknown),
        ("bad address", WordMeaning.UserUnknown),
        ("address syntax", WordMeaning.UserUnknown),
        ("qualified address", WordMeaning.UserUnknown), // Postfix: "need fully-qualified address"
        ("possibly incorrect", WordMeaning.UserUnknown), // Mimecast: "Recipient email address is possibly incorrect"
        ("address is incorrect", WordMeaning.UserUnknown),
        ("not a valid", WordMeaning.UserUnknown),
        ("does not exist", WordMeaning.UserUnknown),
        ("doesn't exist", WordMeaning.UserUnknown),
        ("not exist*", WordMeaning.UserUnknown), // "user not exist", "recipient is not exist"
        ("no longer exists", WordMeaning.UserUnknown),
        ("does not have an account", WordMeaning.UserUnknown),
        ("doesn't have a", WordMeaning.UserUnknown), // Yahoo: "This user doesn't have a yahoo.com account"
        ("not our customer", WordMeaning.UserUnknown), // Comcast
        ("unrouteable address", WordMeaning.UserUnknown),
        ("undeliverable address", WordMeaning.UserUnknown),
        ("unavailable mail user", WordMeaning.UserUnknown),
        ("recipnotfound", WordMeaning.UserUnknown),
        // The same in the languages European and Latin American servers answer in (ASCII forms only).
        ("unbekannt*", WordMeaning.UserUnknown), // Benutzer unbekannt, Empfaenger unbekannt
        ("nicht bekannt", WordMeaning.UserUnknown),
        ("existiert nicht", WordMeaning.UserUnknown),
        ("utilisateur inconnu", WordMeaning.UserUnknown),
        ("destinataire inconnu", WordMeaning.UserUnknown),
        ("adresse inconnue", WordMeaning.UserUnknown),
        ("n'existe pas", WordMeaning.UserUnknown),
        ("usuario desconocido", WordMeaning.UserUnknown),
        ("no existe", WordMeaning.UserUnknown),
        ("utente sconosciuto", WordMeaning.UserUnknown),
        ("non esiste", WordMeaning.UserUnknown),
        ("gebruiker onbekend", WordMeaning.UserUnknown),

        // The mailbox is full.
        ("mailbox full", WordMeaning.MailboxFull),
        ("mailbox is full", WordMeaning.MailboxFull),
        ("mailbox has exceeded", WordMeaning.MailboxFull),
        ("mailbox exceeded", WordMeaning.MailboxFull),
        ("mailbox quota", WordMeaning.MailboxFull),
        ("inbox is full", WordMeaning.MailboxFull),
        ("inbox full", WordMeaning.MailboxFull),
        ("full mailbox", WordMeaning.MailboxFull),
        ("over quota", WordMeaning.MailboxFull),
        ("overquota", WordMeaning.MailboxFull),
        ("over the quota", WordMeaning.MailboxFull),
        ("over the allowed quota", WordMeaning.MailboxFull),
        ("over its quota", WordMeaning.MailboxFull),
        ("over storage", WordMeaning.MailboxFull),
        ("quota exceed*", WordMeaning.MailboxFull),
        ("quotaexceeded*", WordMeaning.MailboxFull), // Exchange QuotaExceededException
        ("exceeded quota", WordMeaning.MailboxFull),
        ("exceeds quota", WordMeaning.MailboxFull),
        ("exceeded its quota", WordMeaning.MailboxFull),
        ("exceeded the quota", WordMeaning.MailboxFull),
        ("insufficient storage", WordMeaning.MailboxFull),
        ("exceeded storage", WordMeaning.MailboxFull),
        ("exhausted allowed storage", WordMeaning.MailboxFull),
        ("out of storage", WordMeaning.MailboxFull),
        ("storage space", WordMeaning.MailboxFull),
        ("not enough space", WordMeaning.MailboxFull),
        ("postfach voll", WordMeaning.MailboxFull),
        ("postfach ist voll", WordMeaning.MailboxFull),
        ("speichervolumen", WordMeaning.MailboxFull),
        ("casella piena", WordMeaning.MailboxFull),
        ("pleine", WordMeaning.MailboxFull), // "boite du destinataire pleine"
        ("quota", WordMeaning.MailboxFull),

        // The recipient's system is overloaded or loops: not the address's fault, and not ours.
        ("mail loop", WordMeaning.RecipientBusy),
        ("routing loop", WordMeaning.RecipientBusy),
        ("loop", WordMeaning.RecipientBusy),
        ("loops", WordMeaning.RecipientBusy),
        ("looping", WordMeaning.RecipientBusy),
        ("hop count", WordMeaning.RecipientBusy),
        ("hops", WordMeaning.RecipientBusy),
        ("temporary lookup failure", WordMeaning.RecipientBusy),
        ("system full", WordMeaning.RecipientBusy),
        ("disk full", WordMeaning.RecipientBusy),
        ("out of memory", WordMeaning.RecipientBusy),
        ("configuration error", WordMeaning.RecipientBusy),
        ("incorrectly configured", WordMeaning.RecipientBusy),
        ("misconfigur*", WordMeaning.RecipientBusy),
        ("internal server error", WordMeaning.RecipientBusy),
        ("internal error", WordMeaning.RecipientBusy),
        ("system error", WordMeaning.RecipientBusy),

        // Transient trouble in general terms: decides only what the codes leave open.
        ("temporarily rejected", WordMeaning.Temporary), // a refusal the server itself calls temporary (Gmail 451 4.3.0, qmail)
        ("temporary rejected", WordMeaning.Temporary),
        ("temporarily refused", WordMeaning.Temporary),
        ("temporarily denied", WordMeaning.Temporary),
        ("try again", WordMeaning.Temporary),
        ("try later", WordMeaning.Temporary),
        ("retry later", WordMeaning.Temporary),
        ("please retry", WordMeaning.Temporary),
        ("temporar*", WordMeaning.Temporary),
        ("deferred", WordMeaning.Temporary),
        ("server busy", WordMeaning.Temporary),
        ("too busy", WordMeaning.Temporary),
        ("busy", WordMeaning.Temporary),
        ("high load", WordMeaning.Temporary),
        ("timed out", WordMeaning.Temporary),
        ("timeout", WordMeaning.Temporary),
        ("connection refused", WordMeaning.Temporary),
        ("connection reset", WordMeaning.Temporary),
        ("connection dropped", WordMeaning.Temporary),
        ("connection died", WordMeaning.Temporary),
        ("lost connection", WordMeaning.Temporary),
        ("connection closed", WordMeaning.Temporary),
        ("network is unreachable", WordMeaning.Temporary),
        ("host unreachable", WordMeaning.Temporary),
        ("lost input connection", WordMeaning.Temporary),
        ("read error", WordMeaning.Temporary),
        ("unable to connect", WordMeaning.Temporary),
        ("could not connect", WordMeaning.Temporary),
        ("service unavailable", WordMeaning.Temporary),
        ("not available", WordMeaning.Temporary),
        ("local error", WordMeaning.Temporary),
        ("query failed", WordMeaning.Temporary),
        ("lookup failure", WordMeaning.Temporary),
        ("lookup failed", WordMeaning.Temporary),

        // The refusal names the recipient address, but no cause.
        ("recipient address rejected", WordMeaning.RecipientRefused),
        ("recipient rejected", WordMeaning.RecipientRefused),
        ("recipient refused", WordMeaning.RecipientRefused),
        ("address rejected", WordMeaning.RecipientRefused),

        // General refusals, last: they name no cause, so they only settle what the codes leave open.
        ("blocked", WordMeaning.Refused),
        ("access denied", WordMeaning.Refused),
        ("denied", WordMeaning.Refused),
        ("refused", WordMeaning.Refused),
        ("refuse", WordMeaning.Refused),
        ("reject*", WordMeaning.Refused),
        ("not authorized", WordMeaning.Refused),
        ("not authorised", WordMeaning.Refused),
        ("prohibited", WordMeaning.Refused),
        ("not allowed", WordMeaning.Refused),
        ("not permitted", WordMeaning.Refused),
        ("not accepted", WordMeaning.Refused),
    ];

    /// <summary>The group a meaning decides in, after <see cref="DecisivePhrases"/>.</summary>
    internal static CauseGroup GroupOf(WordMeaning meaning) => meaning switch
    {
        WordMeaning.PreviouslyBounced or WordMeaning.Unsubscribed or WordMeaning.Complained => CauseGroup.Decisive,
        WordMeaning.SenderAuthentication or WordMeaning.SenderBlocklist or WordMeaning.SpamContent or WordMeaning.RateLimited
            or WordMeaning.SenderRejected or WordMeaning.RelayDenied or WordMeaning.MessageTooLarge or WordMeaning.Protocol
            or WordMeaning.ListMembership => CauseGroup.Sender,
        WordMeaning.Expired => CauseGroup.Expiry,
        WordMeaning.BlockedByRecipient or WordMeaning.AccountDisabled or WordMeaning.Moved or WordMeaning.DomainUnknown
            or WordMeaning.UserUnknown or WordMeaning.MailboxFull => CauseGroup.Recipient,
        WordMeaning.RecipientBusy or WordMeaning.Greylisted => CauseGroup.RecipientBusy,
        WordMeaning.SenderPolicy => CauseGroup.WeakSender,
        WordMeaning.Refused => CauseGroup.GenericRefusal,
        WordMeaning.RecipientRefused => CauseGroup.RecipientRefused,
        _ => CauseGroup.GenericTemporary,
    };

    private static readonly string[] Phrases = Array.ConvertAll(Table, row => row.Phrase.TrimEnd('*'));
    private static readonly bool[] IsPrefix = Array.ConvertAll(Table, row => row.Phrase.EndsWith('*'));
    private static readonly CauseGroup[] Groups = Array.ConvertAll(Table, row => DecisivePhrases.Contains(row.Phrase) ? CauseGroup.Decisive : GroupOf(row.Meaning));

    // Phrases start at a word start, so only word starts are looked up, in a trie of every phrase (a space stands for
    // any run of white space): one walk from the word start reads the answer's characters as far as some phrase goes
    // on, and meets every phrase that matches there. Most walks end within the first word. Each character of the answer
    // is read about once; a dictionary keyed by the word itself cost five times more, and a lookup of the first word
    // followed by a comparison of each phrase that starts with it about twice as much as the trie.
    private static readonly Trie Phrasebook = Trie.Build(Phrases, IsPrefix);

    internal static int Count => Table.Length;

    internal static (string Phrase, WordMeaning Meaning, CauseGroup Group) Row(int rank) => (Phrases[rank], Table[rank].Meaning, Groups[rank]);

    /// <summary>Adds the phrases of <paramref name="answer"/> to <paramref name="findings"/>, the best of each group kept.</summary>
    public static void Find(ReadOnlyMemory<char> answer, ref WordFindings findings)
    {
        var text = answer.Span;
        int coveredUntil = 0;
        int at = 0;
        while (at < text.Length)
        {
            if (!char.IsLetterOrDigit(text[at]))
            {
                at++;
                continue;
            }

            int wordEnd = at + 1;
            while (wordEnd < text.Length && char.IsLetterOrDigit(text[wordEnd]))
            {
                wordEnd++;
            }

            if (at >= coveredUntil)
            {
                int rank = Phrasebook.FirstMatch(text, at, out int length);
                if (rank >= 0 && !InHostName(text, at))
                {
                    // The first row (in rank order) that matches here wins this position and covers its words.
                    coveredUntil = at + length;
                    if (rank < findings[Groups[rank]].Rank)
                    {
                        findings.Offer(Groups[rank], new WordsMatch(rank, answer.Slice(at, length), Table[rank].Meaning));
                    }
                }
            }

            at = wordEnd;
        }
    }

    /// <summary>The findings of one text (tests and single answers).</summary>
    public static WordFindings Find(string text)
    {
        var findings = WordFindings.Empty;
        Find(text.AsMemory(), ref findings);
        return findings;
    }

    /// <summary>
    /// Whether the word at <paramref name="at"/> is a label of a host name ("mx01.spamexperts.com said: 550 5.1.1 User
    /// unknown"): a run of lower-case letters, digits, dots and hyphens with a dot and a final label of letters. Such words
    /// name a machine, not a cause. Exchange's dotted codes (RESOLVER.ADR.RecipNotFound, QUEUE.Expired) have capitals and count.
    /// </summary>
    private static bool InHostName(ReadOnlySpan<char> text, int at)
    {
        int start = at;
        while (start > 0 && IsHostChar(text[start - 1]))
        {
            start--;
        }

        int end = at;
        while (end < text.Length && IsHostChar(text[end]))
        {
            end++;
        }

        while (end > start && text[end - 1] is '.' or '-')
        {
            end--; // a sentence's full stop is not part of the name
        }

        var token = text[start..end];
        int lastDot = token.LastIndexOf('.');
        if (lastDot <= 0 || lastDot == token.Length - 1 || token.Length - lastDot - 1 < 2)
        {
            return false;
        }

        foreach (char c in token)
        {
            if (char.IsAsciiLetterUpper(c))
            {
                return false;
            }
        }

        foreach (char c in token[(lastDot + 1)..])
        {
            if (!char.IsAsciiLetterLower(c))
            {
                return false;
            }
        }

        return true;

        static bool IsHostChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '-';
    }

    private static int Lower(char c) => char.IsAsciiLetterUpper(c) ? c | 0x20 : c;

    /// <summary>
    /// The phrases as a trie: node 0 is the root; a node's edges are the next character of its phrases (lower case, a
    /// space for white space). A phrase must stand as whole words ("rbl" is not in "verbla", "spf" is not in "xspf"),
    /// except a prefix phrase at its end ("throttl*" matches throttled); a space in a phrase matches any run of white
    /// space ("mailbox\n  unavailable" is "mailbox unavailable"); an apostrophe also matches the typographic one.
    /// </summary>
    private sealed class Trie
    {
        private const int None = int.MaxValue;

        /// <summary>The root's children by character (ASCII: phrases are ASCII), 0 for none.</summary>
        private readonly int[] _root = new int[128];
        /// <summary>Node n's edges are <c>_edgeChar/_edgeNode[_edgeStart[n] .. _edgeStart[n + 1]]</c>.</summary>
        private int[] _edgeStart = [];
        private char[] _edgeChar = [];
        private int[] _edgeNode = [];
        /// <summary>The lowest rank of a whole-word phrase, and of a prefix phrase, that ends at the node; <see cref="None"/> if none.</summary>
        private int[] _wordEnd = [];
        private int[] _prefixEnd = [];

        /// <summary>The lowest-ranked phrase that matches at <paramref name="at"/> (a word start) and its length in the text; -1 if none.</summary>
        public int FirstMatch(ReadOnlySpan<char> text, int at, out int length)
        {
            length = 0;
            int best = None;
            int node = 0;
            int t = at;
            while (true)
            {
                if (_wordEnd[node] < best && (t == text.Length || !char.IsLetterOrDigit(text[t])))
                {
                    best = _wordEnd[node];
                    length = t - at;
                }

                if (_prefixEnd[node] < best)
                {
                    int end = t;
                    while (end < text.Length && char.IsLetterOrDigit(text[end]))
                    {
                        end++;
                    }

                    best = _prefixEnd[node];
                    length = end - at;
                }

                if (t == text.Length)
                {
                    break;
                }

                char x = text[t];
                if (char.IsWhiteSpace(x))
                {
                    node = Child(node, ' ');
                    while (++t < text.Length && char.IsWhiteSpace(text[t]))
                    {
                    }
                }
                else
                {
                    node = Child(node, char.IsAscii(x) ? (char)Lower(x) : x == '\u2019' ? '\'' : char.ToLowerInvariant(x));
                    t++;
                }

                if (node == 0)
                {
                    break;
                }
            }

            return best == None ? -1 : best;
        }

        /// <summary>The child of <paramref name="node"/> by <paramref name="c"/>; 0 (the root, never a child) if none.</summary>
        private int Child(int node, char c)
        {
            if (node == 0)
            {
                return c < 128 ? _root[c] : 0;
            }

            for (int e = _edgeStart[node]; e < _edgeStart[node + 1]; e++)
            {
                if (_edgeChar[e] == c)
                {
                    return _edgeNode[e];
                }
            }

            return 0;
        }

        public static Trie Build(string[] phrases, bool[] isPrefix)
        {
            var children = new List<Dictionary<char, int>> { new() };
            var wordEnd = new List<int> { None };
            var prefixEnd = new List<int> { None };
            for (int rank = 0; rank < phrases.Length; rank++)
            {
                string phrase = phrases[rank];
                if (phrase.Length < 3 || !char.IsAsciiLetterOrDigit(phrase[0]) || phrase.Any(char.IsUpper) || !Ascii.IsValid(phrase)
                    || phrase.Contains("  ", StringComparison.Ordinal) || phrase.EndsWith(' '))
                {
                    throw new InvalidOperationException($"Phrase \"{phrase}\" must be lower-case ASCII, start with a letter or digit, have at least three characters and single spaces between words.");
                }

                int node = 0;
                foreach (char c in phrase)
                {
                    if (!children[node].TryGetValue(c, out int next))
                    {
                        next = children.Count;
                        children[node][c] = next;
                        children.Add([]);
                        wordEnd.Add(None);
                        prefixEnd.Add(None);
                    }

                    node = next;
                }

                // The first row wins: a phrase written twice keeps its lower rank.
                var ends = isPrefix[rank] ? prefixEnd : wordEnd;
                ends[node] = Math.Min(ends[node], rank);
            }

            var trie = new Trie
            {
                _edgeStart = new int[children.Count + 1],
                _edgeChar = new char[children.Count - 1],
                _edgeNode = new int[children.Count - 1],
                _wordEnd = wordEnd.ToArray(),
                _prefixEnd = prefixEnd.ToArray(),
            };
            int edge = 0;
            for (int node = 0; node < children.Count; node++)
            {
                trie._edgeStart[node] = edge;
                foreach (var (c, child) in children[node])
                {
                    trie._edgeChar[edge] = c;
                    trie._edgeNode[edge++] = child;
                    if (node == 0)
                    {
                        trie._root[c] = child;
                    }
                }
            }

            trie._edgeStart[children.Count] = edge;
            return trie;
        }
    }
}
