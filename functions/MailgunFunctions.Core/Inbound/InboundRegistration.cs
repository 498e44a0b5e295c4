using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailgunFunctions.Inbound;

/// <summary>
/// Registers inbound replies. <see cref="IReplyDndActions"/> and <see cref="IOutboundMessageLookup"/> are NOT
/// registered here: they are implemented over the DND store and the events pipeline's sent-message record,
/// and wired where those live. Until then <see cref="InboundProcessor"/> cannot be resolved.
/// </summary>
public static class InboundRegistration
{
    public static IServiceCollection AddInboundReplies(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<InboundOptions>().Bind(configuration.GetSection(InboundOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<InboundQueue>();
        services.TryAddSingleton<InboundWebhookIntake>();
        services.TryAddSingleton<ReplyStore>();
        services.TryAddSingleton<InboundProcessor>();
        return services;
    }
}
