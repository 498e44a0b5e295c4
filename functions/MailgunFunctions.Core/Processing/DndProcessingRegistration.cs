using MailgunFunctions.Dnd;
using MailgunFunctions.Erasure;
using MailgunFunctions.Queueing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailgunFunctions.Processing;

/// <summary>
/// Registers the DND store, the sender-issue counter and the event processor. The processor needs an
/// <see cref="Classification.IEventClassifier"/>, registered with the classifier.
/// </summary>
public static class DndProcessingRegistration
{
    public static IServiceCollection AddDndProcessing(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<DndOptions>().Bind(configuration.GetSection(DndOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<DndStore>();
        services.TryAddSingleton<SenderIssueCounter>();
        services.TryAddSingleton<DndErasure>();
        services.TryAddSingleton<EventPoisonQueue>();
        services.TryAddSingleton<SentMessageLog>();
        services.TryAddSingleton<MailgunAllowlists>();
        services.TryAddSingleton<Inbound.IOutboundMessageLookup>(sp => sp.GetRequiredService<SentMessageLog>());
        services.TryAddSingleton<Inbound.IReplyDndActions, Inbound.ReplyDndActions>();
        services.TryAddSingleton<EventProcessor>();
        return services;
    }
}
