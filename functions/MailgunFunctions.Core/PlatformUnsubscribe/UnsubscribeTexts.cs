using System.Globalization;
using Microsoft.Net.Http.Headers;

namespace MailgunFunctions.PlatformUnsubscribe;

/// <summary>
/// Every text of the unsubscribe pages in one language. Each property is required, so a language that misses a text
/// does not compile. In texts with placeholders, <c>{0}</c> is the brand and <c>{1}</c> the masked address; texts are
/// plain (the pages encode them), never HTML. French puts a no-break space (U+00A0) before "?", ":" and ";", so the
/// mark never wraps onto a line of its own.
/// </summary>
public sealed class UnsubscribeTexts
{
    /// <summary>The BCP 47 primary language tag, for <c>&lt;html lang&gt;</c>.</summary>
    public required string Language { get; init; }
    public required string ConfirmTitle { get; init; }
    public required string ConfirmHeading { get; init; }
    public required string ConfirmText { get; init; }
    public required string ConfirmButton { get; init; }
    public required string ConfirmNote { get; init; }
    public required string DoneTitle { get; init; }
    public required string DoneHeading { get; init; }
    public required string DoneText { get; init; }
    public required string AlreadyTitle { get; init; }
    public required string AlreadyHeading { get; init; }
    public required string AlreadyText { get; init; }
    public required string UndoButton { get; init; }
    public required string ResubscribedTitle { get; init; }
    public required string ResubscribedHeading { get; init; }
    public required string ResubscribedText { get; init; }
    public required string UnsubscribeAgainButton { get; init; }
    public required string StillBlockedTitle { get; init; }
    public required string StillBlockedHeading { get; init; }
    public required string StillBlockedText { get; init; }
    public required string InvalidTitle { get; init; }
    public required string InvalidHeading { get; init; }
    public required string InvalidText { get; init; }
    public required string ExpiredTitle { get; init; }
    public required string ExpiredHeading { get; init; }
    public required string ExpiredText { get; init; }
    public required string BadRequestTitle { get; init; }
    public required string BadRequestHeading { get; init; }
    public required string BadRequestText { get; init; }
    public required string UnavailableTitle { get; init; }
    public required string UnavailableHeading { get; init; }
    public required string UnavailableText { get; init; }

    /// <summary>The language the pages fall back to when the browser asks for none of ours.</summary>
    public const string Fallback = "en";

    /// <summary>The resource table: every language the pages speak.</summary>
    public static IReadOnlyDictionary<string, UnsubscribeTexts> All { get; } = new Dictionary<string, UnsubscribeTexts>(StringComparer.OrdinalIgnoreCase)
    {
        ["en"] = new()
        {
            Language = "en",
            ConfirmTitle = "Unsubscribe",
            ConfirmHeading = "Unsubscribe?",
            ConfirmText = "Stop emails from {0} to {1}.",
            ConfirmButton = "Unsubscribe",
            ConfirmNote = "Nothing changes until you press the button.",
            DoneTitle = "Unsubscribed",
            DoneHeading = "You are unsubscribed",
            DoneText = "{1} will get no more emails from {0}.",
            AlreadyTitle = "Already unsubscribed",
            AlreadyHeading = "You are already unsubscribed",
            AlreadyText = "{1} gets no emails from {0}. There is nothing more to do.",
            UndoButton = "Undo: subscribe me again",
            ResubscribedTitle = "Subscribed again",
            ResubscribedHeading = "You are subscribed again",
            ResubscribedText = "{1} will get emails from {0} again.",
            UnsubscribeAgainButton = "Unsubscribe after all",
            StillBlockedTitle = "Unsubscribe removed",
            StillBlockedHeading = "Your unsubscribe is removed",
            StillBlockedText = "Emails to {1} stay paused for another reason (for example, messages could not be delivered). {0} can look into it.",
            InvalidTitle = "Link not valid",
            InvalidHeading = "This link is not valid",
            InvalidText = "It may have been cut short or changed. Please open the unsubscribe link from the email again.",
            ExpiredTitle = "Link no longer valid",
            ExpiredHeading = "This link is no longer valid",
            ExpiredText = "Please use the unsubscribe link in a more recent email, or reply to the email and ask to be removed.",
            BadRequestTitle = "Nothing to do",
            BadRequestHeading = "Nothing was changed",
            BadRequestText = "Please use the button on the unsubscribe page.",
            UnavailableTitle = "Please try again",
            UnavailableHeading = "Please try again in a minute",
            UnavailableText = "We could not complete this just now. Nothing was lost; please try again shortly.",
        },
        ["de"] = new()
        {
            Language = "de",
            ConfirmTitle = "Abmelden",
            ConfirmHeading = "Abmelden?",
            ConfirmText = "Keine E-Mails mehr von {0} an {1}.",
            ConfirmButton = "Abmelden",
            ConfirmNote = "Erst wenn Sie auf die Schaltfläche drücken, ändert sich etwas.",
            DoneTitle = "Abgemeldet",
            DoneHeading = "Sie sind abgemeldet",
            DoneText = "{1} erhält keine E-Mails mehr von {0}.",
            AlreadyTitle = "Bereits abgemeldet",
            AlreadyHeading = "Sie sind bereits abgemeldet",
            AlreadyText = "{1} erhält keine E-Mails von {0}. Sie müssen nichts weiter tun.",
            UndoButton = "Rückgängig: wieder anmelden",
            ResubscribedTitle = "Wieder angemeldet",
            ResubscribedHeading = "Sie sind wieder angemeldet",
            ResubscribedText = "{1} erhält wieder E-Mails von {0}.",
            UnsubscribeAgainButton = "Doch abmelden",
            StillBlockedTitle = "Abmeldung aufgehoben",
            StillBlockedHeading = "Ihre Abmeldung ist aufgehoben",
            StillBlockedText = "E-Mails an {1} bleiben aus einem anderen Grund pausiert (zum Beispiel, weil Nachrichten nicht zugestellt werden konnten). {0} kann das prüfen.",
            InvalidTitle = "Link ungültig",
            InvalidHeading = "Dieser Link ist ungültig",
            InvalidText = "Er wurde vielleicht gekürzt oder verändert. Bitte öffnen Sie den Abmeldelink aus der E-Mail noch einmal.",
            ExpiredTitle = "Link nicht mehr gültig",
            ExpiredHeading = "Dieser Link ist nicht mehr gültig",
            ExpiredText = "Bitte nutzen Sie den Abmeldelink einer neueren E-Mail, oder antworten Sie auf die E-Mail und bitten Sie um Austragung.",
            BadRequestTitle = "Nichts zu tun",
            BadRequestHeading = "Es wurde nichts geändert",
            BadRequestText = "Bitte nutzen Sie die Schaltfläche auf der Abmeldeseite.",
            UnavailableTitle = "Bitte später erneut versuchen",
            UnavailableHeading = "Bitte versuchen Sie es in einer Minute erneut",
            UnavailableText = "Das hat gerade nicht geklappt. Es ist nichts verloren gegangen; bitte versuchen Sie es gleich noch einmal.",
        },
        ["fr"] = new()
        {
            Language = "fr",
            ConfirmTitle = "Se désabonner",
            ConfirmHeading = "Se désabonner\u00A0?",
            ConfirmText = "Ne plus recevoir les e-mails de {0} à l’adresse {1}.",
            ConfirmButton = "Me désabonner",
            ConfirmNote = "Rien ne change tant que vous n’appuyez pas sur le bouton.",
            DoneTitle = "Désabonné",
            DoneHeading = "Vous êtes désabonné",
            DoneText = "{1} ne recevra plus d’e-mails de {0}.",
            AlreadyTitle = "Déjà désabonné",
            AlreadyHeading = "Vous êtes déjà désabonné",
            AlreadyText = "{1} ne reçoit pas d’e-mails de {0}. Vous n’avez rien d’autre à faire.",
            UndoButton = "Annuler\u00A0: me réabonner",
            ResubscribedTitle = "Réabonné",
            ResubscribedHeading = "Vous êtes de nouveau abonné",
            ResubscribedText = "{1} recevra de nouveau les e-mails de {0}.",
            UnsubscribeAgainButton = "Me désabonner finalement",
            StillBlockedTitle = "Désabonnement annulé",
            StillBlockedHeading = "Votre désabonnement est annulé",
            StillBlockedText = "Les e-mails vers {1} restent suspendus pour une autre raison (par exemple, des messages n’ont pas pu être remis). {0} peut s’en occuper.",
            InvalidTitle = "Lien non valide",
            InvalidHeading = "Ce lien n’est pas valide",
            InvalidText = "Il a peut-être été tronqué ou modifié. Veuillez rouvrir le lien de désabonnement depuis l’e-mail.",
            ExpiredTitle = "Lien expiré",
            ExpiredHeading = "Ce lien n’est plus valide",
            ExpiredText = "Veuillez utiliser le lien de désabonnement d’un e-mail plus récent, ou répondre à l’e-mail pour demander à être retiré de la liste.",
            BadRequestTitle = "Rien à faire",
            BadRequestHeading = "Rien n’a été modifié",
            BadRequestText = "Veuillez utiliser le bouton de la page de désabonnement.",
            UnavailableTitle = "Veuillez réessayer",
            UnavailableHeading = "Veuillez réessayer dans une minute",
            UnavailableText = "Cela n’a pas abouti pour le moment. Rien n’est perdu\u00A0; veuillez réessayer dans un instant.",
        },
        ["es"] = new()
        {
            Language = "es",
            ConfirmTitle = "Darse de baja",
            ConfirmHeading = "¿Darse de baja?",
            ConfirmText = "Dejar de recibir correos de {0} en {1}.",
            ConfirmButton = "Darme de baja",
            ConfirmNote = "No cambia nada hasta que pulse el botón.",
            DoneTitle = "Baja confirmada",
            DoneHeading = "Se ha dado de baja",
            DoneText = "{1} ya no recibirá correos de {0}.",
            AlreadyTitle = "Ya dado de baja",
            AlreadyHeading = "Ya se había dado de baja",
            AlreadyText = "{1} no recibe correos de {0}. No tiene que hacer nada más.",
            UndoButton = "Deshacer: suscribirme de nuevo",
            ResubscribedTitle = "Suscrito de nuevo",
            ResubscribedHeading = "Vuelve a estar suscrito",
            ResubscribedText = "{1} volverá a recibir correos de {0}.",
            UnsubscribeAgainButton = "Darme de baja igualmente",
            StillBlockedTitle = "Baja anulada",
            StillBlockedHeading = "Su baja se ha anulado",
            StillBlockedText = "Los correos a {1} siguen en pausa por otro motivo (por ejemplo, no se pudieron entregar mensajes). {0} puede revisarlo.",
            InvalidTitle = "Enlace no válido",
            InvalidHeading = "Este enlace no es válido",
            InvalidText = "Puede que se haya cortado o modificado. Abra de nuevo el enlace de baja desde el correo.",
            ExpiredTitle = "Enlace caducado",
            ExpiredHeading = "Este enlace ya no es válido",
            ExpiredText = "Use el enlace de baja de un correo más reciente, o responda al correo y pida que le den de baja.",
            BadRequestTitle = "Nada que hacer",
            BadRequestHeading = "No se ha cambiado nada",
            BadRequestText = "Use el botón de la página de baja.",
            UnavailableTitle = "Inténtelo de nuevo",
            UnavailableHeading = "Inténtelo de nuevo en un minuto",
            UnavailableText = "No se ha podido completar ahora mismo. No se ha perdido nada; vuelva a intentarlo en un momento.",
        },
        ["pt"] = new()
        {
            Language = "pt",
            ConfirmTitle = "Cancelar inscrição",
            ConfirmHeading = "Cancelar a inscrição?",
            ConfirmText = "Deixar de receber e-mails de {0} em {1}.",
            ConfirmButton = "Cancelar inscrição",
            ConfirmNote = "Nada muda até carregar no botão.",
            DoneTitle = "Inscrição cancelada",
            DoneHeading = "A sua inscrição foi cancelada",
            DoneText = "{1} não receberá mais e-mails de {0}.",
            AlreadyTitle = "Inscrição já cancelada",
            AlreadyHeading = "A sua inscrição já estava cancelada",
            AlreadyText = "{1} não recebe e-mails de {0}. Não precisa de fazer mais nada.",
            UndoButton = "Desfazer: inscrever-me de novo",
            ResubscribedTitle = "Inscrito de novo",
            ResubscribedHeading = "Está inscrito de novo",
            ResubscribedText = "{1} voltará a receber e-mails de {0}.",
            UnsubscribeAgainButton = "Cancelar a inscrição afinal",
            StillBlockedTitle = "Cancelamento anulado",
            StillBlockedHeading = "O seu cancelamento foi anulado",
            StillBlockedText = "Os e-mails para {1} continuam em pausa por outro motivo (por exemplo, mensagens que não puderam ser entregues). {0} pode verificar.",
            InvalidTitle = "Link inválido",
            InvalidHeading = "Este link não é válido",
            InvalidText = "Pode ter sido cortado ou alterado. Abra de novo o link de cancelamento a partir do e-mail.",
            ExpiredTitle = "Link expirado",
            ExpiredHeading = "Este link já não é válido",
            ExpiredText = "Use o link de cancelamento de um e-mail mais recente, ou responda ao e-mail e peça para ser removido.",
            BadRequestTitle = "Nada a fazer",
            BadRequestHeading = "Nada foi alterado",
            BadRequestText = "Use o botão da página de cancelamento.",
            UnavailableTitle = "Tente novamente",
            UnavailableHeading = "Tente novamente dentro de um minuto",
            UnavailableText = "Não foi possível concluir agora. Nada se perdeu; tente novamente dentro de momentos.",
        },
    };

    /// <summary>Longer headers are not a browser's: they get the fallback instead of being parsed.</summary>
    private const int MaxAcceptLanguageLength = 1024;

    /// <summary>
    /// The texts for an <c>Accept-Language</c> header (RFC 9110): the language with the highest q-value that we speak,
    /// matched by its primary tag ("de-CH" is German), the first listed on a tie; <c>q=0</c> means "not this one";
    /// <c>*</c> or nothing we speak gives English.
    /// </summary>
    public static UnsubscribeTexts For(string? acceptLanguage)
    {
        if (string.IsNullOrWhiteSpace(acceptLanguage) || acceptLanguage.Length > MaxAcceptLanguageLength
            || !StringWithQualityHeaderValue.TryParseList([acceptLanguage], out var ranges))
        {
            return All[Fallback];
        }

        // "de;q=0" refuses German in every region ("de-AT;q=0" refuses a region, which the pages do not tell apart).
        var refused = ranges.Where(r => r.Quality is <= 0 && !(r.Value.Value ?? "").Contains('-', StringComparison.Ordinal))
            .Select(r => r.Value.Value ?? "").ToHashSet(StringComparer.OrdinalIgnoreCase);
        UnsubscribeTexts? best = null;
        double bestQuality = 0;
        foreach (var range in ranges)
        {
            double quality = range.Quality ?? 1;
            string primary = (range.Value.Value ?? "").Split('-', 2)[0];
            if (quality > bestQuality && !refused.Contains(primary) && All.TryGetValue(primary, out var texts))
            {
                best = texts;
                bestQuality = quality;
            }
        }

        return best ?? All[Fallback];
    }

    /// <summary>A text with its placeholders filled by already-encoded HTML fragments (the text itself is encoded here).</summary>
    internal static string Fill(string text, params object[] encodedFragments) =>
        string.Format(CultureInfo.InvariantCulture, UnsubscribePages.Encode(text), encodedFragments);
}
