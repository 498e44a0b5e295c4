using MailgunFunctions.App;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddMailgunFunctions(builder.Configuration);
// Only where APPLICATIONINSIGHTS_CONNECTION_STRING is set (Azure): tests and local runs export nothing.
builder.Services.AddAzureMonitorTelemetry(builder.Configuration);
var app = builder.Build();
if (args.Contains("--check"))
{
    return await StartupCheck.RunAsync(app.Services, Console.Out);
}

app.Run();
return 0;
