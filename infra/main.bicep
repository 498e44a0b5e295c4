// MailgunFunctions: from an empty resource group to a running, identity-only deployment.
// `azd up` deploys this file (see azure.yaml); by hand: `az deployment group create -g RG -f infra/main.bicep -p ...`
// (docs/deployment.md). Plain resource declarations only: registry modules cannot be restored offline,
// and CI builds and lints these templates with no network.
targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------------------------

@minLength(1)
@maxLength(64)
@description('Name of the azd environment (or any short name): part of every resource name and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Azure region of every resource. Must offer the Flex Consumption plan.')
param location string

// ---------------------------------------------------------------------------------------------------------
// Secrets (stored in Key Vault; the app reads them through Key Vault references)
// ---------------------------------------------------------------------------------------------------------

@secure()
@minLength(1)
@description('Mailgun HTTP webhook signing key (Mailgun dashboard: Sending > Webhooks). Never the private API key.')
param mailgunSigningKey string

@secure()
@description('The next Mailgun webhook signing key while rotating (accepted alongside the current one); empty otherwise.')
param mailgunNextSigningKey string = ''

@secure()
@minLength(1)
@description('Mailgun private API key (suppression export and the CLI).')
param mailgunApiKey string

@secure()
@minLength(32)
@description('Random key that signs unsubscribe links (at least 32 characters, e.g. `openssl rand -base64 48`).')
param unsubscribeLinkKey string

@secure()
@minLength(32)
@description('Key-encryption key of the tenant registry (Tenants:KeyEncryptionKeys:k1): at least 32 characters of random text, e.g. `openssl rand -base64 48`. Keep it: tenants sealed with it cannot be read without it.')
param tenantRegistryKek string

@secure()
@description('Secret that signs the single-account tenant\'s DND change notifications (Notifications:DefaultSecret, HMAC-SHA256; at least 32 characters of random text). Empty when notificationsDefaultUrl is empty: registry tenants keep their own secret in the registry.')
param notificationsDefaultSecret string = ''

// ---------------------------------------------------------------------------------------------------------
// App options: one parameter per option, with the same default as the options class (a test checks both)
// ---------------------------------------------------------------------------------------------------------

@description('Webhooks:MaxSignatureAge, oldest signature timestamp accepted (TimeSpan). Mailgun retries for about 8 hours.')
param webhooksMaxSignatureAge string = '12:00:00'

@description('Webhooks:MaxClockSkew, how far in the future a signature timestamp may be (TimeSpan).')
param webhooksMaxClockSkew string = '00:05:00'

@description('Webhooks:MaxEventBodyBytes, largest events webhook body accepted.')
param webhooksMaxEventBodyBytes int = 1048576

@description('Webhooks:EngagementEvents, whether the Mailgun set-up subscribes to opened and clicked (they change no DND state; about a fifth of all events).')
param webhooksEngagementEvents bool = false

@description('Storage:MaxRetries, retries of one storage request by the app\'s own clients.')
param storageMaxRetries int = 2

@description('Storage:NetworkTimeout, timeout of one storage request attempt (TimeSpan).')
param storageNetworkTimeout string = '00:00:10'

@description('Storage:Shards, K: storage accounts holding tenants\' events and DND state (docs/scaling.md). 1: AzureWebJobsStorage only.')
@minValue(1)
@maxValue(8)
param storageShards int = 1

@description('Rates:HardBounceWarning, hard bounces per message sent that log event 15001 (platform: 3%).')
param ratesHardBounceWarning string = '0.03'

@description('Rates:HardBounceCritical, hard bounces per message sent that log event 15002 (platform suspends above 5%).')
param ratesHardBounceCritical string = '0.05'

@description('Rates:ComplaintWarning, complaints per message delivered that log event 15001.')
param ratesComplaintWarning string = '0.0005'

@description('Rates:ComplaintCritical, complaints per message delivered that log event 15002 (platform suspends above 0.08%).')
param ratesComplaintCritical string = '0.0008'

@description('Rates:MinimumVolume, fewest messages in a rate\'s denominator before it is judged.')
param ratesMinimumVolume int = 1000

@description('Rates:Shards, counter rows per tenant and day.')
param ratesShards int = 16

@description('Resource id of the action group the alert rules notify (docs/operations.md#alerts-as-code); empty: no alert rules, the workbook only.')
param alertActionGroupId string = ''

@description('Telemetry:SamplingRatio, share (0 to 1) of operations whose dependency calls the worker exports (metrics are never sampled).')
param telemetrySamplingRatio string = '0.1'

@description('Classifier:MailboxFullIsPermanent, the platform rule: 552 / X.2.2 mailbox full is a permanent DND (RFC: transient).')
param classifierMailboxFullIsPermanent bool = true

@description('Classifier:CarrierUnknownNumberIsSoft, the platform rule: carrier codes 30005/30006 are soft bounces.')
param classifierCarrierUnknownNumberIsSoft bool = true

@description('Classifier:GaveUpAfterRetriesIsPermanent, whether Mailgun giving up after its retries (reason old) is a permanent DND.')
param classifierGaveUpAfterRetriesIsPermanent bool = false

@description('Classifier:MaxScannedCharacters, how much of a bounce message the word rules read.')
param classifierMaxScannedCharacters int = 4096

@description('Dnd:TemporaryDuration, how long a soft bounce keeps an address in temporary DND (TimeSpan).')
param dndTemporaryDuration string = '3.00:00:00'

@description('Dnd:SoftBounceEscalationCount, soft-bounced distinct messages within the window that make the DND permanent.')
param dndSoftBounceEscalationCount int = 3

@description('Dnd:SoftBounceEscalationWindow, the escalation window (TimeSpan).')
param dndSoftBounceEscalationWindow string = '14.00:00:00'

@description('Tenants:DefaultTenantId, the id of the single-account tenant made from the Mailgun settings (served by /api/mailgun/events).')
param tenantsDefaultTenantId string = 'default'

@description('Tenants:CacheLifetime, how long an instance keeps a tenant read from the registry: the bound for a key rotation or a disconnect to reach every instance (TimeSpan).')
param tenantsCacheLifetime string = '00:01:00'

@description('Tenants:UnknownTenantCacheLifetime, how long an instance remembers an unknown tenant id (TimeSpan).')
param tenantsUnknownTenantCacheLifetime string = '00:00:10'

@description('Tenants:CacheSize, tenants kept per instance at most.')
param tenantsCacheSize int = 20000

@description('Dnd:ContactIdVariable, the Mailgun user-variable that carries the platform\'s contact id.')
param dndContactIdVariable string = 'contactId'

@description('Dnd:SenderIssueBucket, the time bucket of the sender-side failure counters (TimeSpan).')
param dndSenderIssueBucket string = '00:10:00'

@description('Dnd:SenderIssueWarningThreshold, sender-side failures per tenant and bucket that raise a warning.')
param dndSenderIssueWarningThreshold int = 25

@description('Dnd:MaxWriteAttempts, optimistic-concurrency attempts on one DND entry before the queue retries.')
param dndMaxWriteAttempts int = 8

@description('Dnd change feed, ChangeFeed:SafetyMargin: how old a change must be before GET /api/dnd/{tenant}?changedSince= returns it (TimeSpan; at least the longest storage write plus clock skew).')
param changeFeedSafetyMargin string = '00:02:00'

@description('ChangeFeed:Retention, how long change rows are kept for changedSince resyncs (TimeSpan).')
param changeFeedRetention string = '30.00:00:00'

@description('ChangeFeed:SweepAfter, age of an undispatched change after which the sweeper sends it again (TimeSpan).')
param changeFeedSweepAfter string = '00:02:00'

@description('ChangeFeed:PageSize, changes per changedSince page unless the caller asks for fewer (at most 1000).')
param changeFeedPageSize int = 500

@description('ChangeFeed:ExpiryConcurrency, entries whose temporary DND ended that one expiry run handles in parallel.')
param changeFeedExpiryConcurrency int = 16

@description('Notifications:DefaultUrl, where the single-account tenant\'s DND changes are POSTed (https); empty: the dnd-changes queue only.')
param notificationsDefaultUrl string = ''

@description('Notifications:Timeout, longest wait for the platform\'s answer to one POST (TimeSpan).')
param notificationsTimeout string = '00:00:10'

@description('Notifications:FirstRetryDelay, delay before the first retry of a failed POST; doubled per retry (TimeSpan).')
param notificationsFirstRetryDelay string = '00:00:30'

@description('Notifications:MaxRetryDelay, longest delay between two attempts (TimeSpan).')
param notificationsMaxRetryDelay string = '01:00:00'

@description('Notifications:RetryFor, how long a change is retried before it is parked in the dead-letter table (TimeSpan, at least 1 day).')
param notificationsRetryFor string = '1.00:00:00'

@description('Notifications:MaxConcurrentPosts, POSTs one instance has in flight at once.')
param notificationsMaxConcurrentPosts int = 32

@description('Notifications:MaxWaitingPosts, fresh changes an instance holds for their first POST before handing more to the retry queue.')
param notificationsMaxWaitingPosts int = 1000

@description('SuppressionExport:BlockSizeBytes, size of the blocks the export uploads (checkpoint granularity).')
param suppressionExportBlockSizeBytes int = 4194304

@description('SuppressionExport:FanOutConcurrency, export jobs the nightly timer sends to the queue at once.')
param suppressionExportFanOutConcurrency int = 32

@description('SuppressionExport:JobTimeBudget, how long one export job works before it continues in a new job (TimeSpan; below host.json functionTimeout).')
param suppressionExportJobTimeBudget string = '00:08:00'

@description('SuppressionExport:ReviewWebhookUrl, optional URL (https) the nightly review of each tenant\'s domain is POSTed to as JSON (a chat or ticketing webhook); empty: logged and measured only.')
param suppressionExportReviewWebhookUrl string = ''

@description('NCRONTAB schedule of the nightly suppression export fan-out (UTC): one job per tenant and domain; firing it again the same night is harmless.')
param exportSchedule string = '0 0 2 * * *'

@description('Inbound:MaxRequestBytes, largest inbound route post (Mailgun accepts 25 MB mails; form encoding inflates).')
param inboundMaxRequestBytes int = 41943040

@description('Inbound:RawRetentionDays, days the raw inbound mail is kept (blob metadata, and the storage lifecycle rule that deletes it).')
param inboundRawRetentionDays int = 90

@description('Inbound:MaxFieldChars, longest form field read from an inbound post.')
param inboundMaxFieldChars int = 1048576

@description('The Mailgun sending domain the export and the CLI work on (MailgunApi:Domains:0:Name). Add more as MailgunApi__Domains__1__Name... app settings.')
param mailgunDomain string

@description('Region of that domain: Us or Eu (MailgunApi:Domains:0:Region).')
@allowed(['Us', 'Eu'])
param mailgunDomainRegion string = 'Us'

@description('MailgunApi:UsBaseUrl.')
param mailgunApiUsBaseUrl string = 'https://api.mailgun.net'

@description('MailgunApi:EuBaseUrl.')
param mailgunApiEuBaseUrl string = 'https://api.eu.mailgun.net'

@description('MailgunApi:AttemptTimeout (TimeSpan).')
param mailgunApiAttemptTimeout string = '00:00:30'

@description('MailgunApi:PageReadTimeout (TimeSpan).')
param mailgunApiPageReadTimeout string = '00:02:00'

@description('MailgunApi:MaxRetryAttempts.')
param mailgunApiMaxRetryAttempts int = 6

@description('MailgunApi:RetryBaseDelay (TimeSpan).')
param mailgunApiRetryBaseDelay string = '00:00:02'

@description('MailgunApi:MaxRetryDelay (TimeSpan).')
param mailgunApiMaxRetryDelay string = '00:01:00'

@description('MailgunApi:SuppressionPageSize (Mailgun allows up to 1000).')
param mailgunApiSuppressionPageSize int = 1000

@description('MailgunApi:EventPageSize (Mailgun allows up to 300).')
param mailgunApiEventPageSize int = 300

@description('Unsubscribe:BaseUrl, public URL of the unsubscribe function; empty = https://<app>.azurewebsites.net/api/unsubscribe.')
param unsubscribeBaseUrl string = ''

@description('Unsubscribe:MailtoAddress, optional mailto address added to List-Unsubscribe.')
param unsubscribeMailtoAddress string = ''
@description('SuppressionReconciliation:MaxDndKeysInMemory, DND entries of one domain the nightly reconciliation keeps as hashes (above: point reads).')
param reconciliationMaxDndKeysInMemory int = 1000000

@description('SuppressionReconciliation:MaxAllowlistEntries, largest Mailgun allowlist of one domain the reconciliation accepts.')
param reconciliationMaxAllowlistEntries int = 200000

@description('SuppressionReconciliation:ReviewFilterFalsePositiveRate, false-positive rate of the filter of Mailgun addresses (decimal text).')
param reconciliationReviewFilterFalsePositiveRate string = '0.001'

// ---------------------------------------------------------------------------------------------------------
// Sizing and protection
// ---------------------------------------------------------------------------------------------------------

@description('Storage replication.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param storageSku string = 'Standard_LRS'

@description('Memory of one Flex Consumption instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to. Each queue-triggered function and the HTTP group scale separately up to this.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Key Vault purge protection. Irreversible once on; turn off only for throw-away environments you want to `azd down --purge`.')
param keyVaultPurgeProtection bool = true

@description('Days a deleted Key Vault or secret stays recoverable.')
@minValue(7)
@maxValue(90)
param keyVaultSoftDeleteRetentionInDays int = 90

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

// ---------------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(resourceGroup().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
// The host id is the first 32 characters of the app name; 'func-mailgun-' + 13 keeps it unique per environment.
var functionAppName = 'func-mailgun-${resourceToken}'
var deploymentContainerName = 'deployment-package'
var identityName = 'id-mailgun-${resourceToken}'
var storageAccountName = 'st${resourceToken}'
var keyVaultName = 'kv-${resourceToken}'
var applicationInsightsName = 'appi-mailgun-${resourceToken}'

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: identityName
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: storageAccountName
    location: location
    tags: tags
    skuName: storageSku
    deploymentContainerName: deploymentContainerName
    inboundRawContainerName: 'mailgun-inbound-raw'
    inboundRawRetentionDays: inboundRawRetentionDays
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-mailgun-${resourceToken}'
    applicationInsightsName: applicationInsightsName
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    namePrefix: 'alert-mailgun-${resourceToken}'
    location: location
    tags: tags
    applicationInsightsName: applicationInsightsName
    actionGroupId: alertActionGroupId
  }
  // The component is named here, not taken from the module's outputs (What-If can then predict the rules): so say the order.
  dependsOn: [
    monitoring
  ]
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: keyVaultName
    location: location
    tags: tags
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionInDays
    enablePurgeProtection: keyVaultPurgeProtection
    mailgunSigningKey: mailgunSigningKey
    mailgunNextSigningKey: mailgunNextSigningKey
    mailgunApiKey: mailgunApiKey
    unsubscribeLinkKey: unsubscribeLinkKey
    tenantRegistryKek: tenantRegistryKek
    notificationsDefaultSecret: notificationsDefaultSecret
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  // Names are passed as known-in-advance strings (What-If can predict the assignments), so order is explicit.
  dependsOn: [identity, storage, keyVault, monitoring]
  params: {
    identityName: identityName
    storageAccountName: storageAccountName
    keyVaultName: keyVaultName
    applicationInsightsName: applicationInsightsName
  }
}

// ---------------------------------------------------------------------------------------------------------
// App settings: every setting the app reads (tests/MailgunFunctions.App.Tests/Infra checks none is missing).
// Secrets are Key Vault references only; a reference must name a secret declared in modules/keyvault.bicep,
// because an unresolvable reference reaches the app as its literal text.
// ---------------------------------------------------------------------------------------------------------

var vaultName = keyVault.outputs.name

var appSettings = {
  // Functions host and the app's own clients (StorageClients): identity-based, no connection string.
  AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
  AzureWebJobsStorage__queueServiceUri: storage.outputs.queueEndpoint
  AzureWebJobsStorage__tableServiceUri: storage.outputs.tableEndpoint
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  // Azure SDK clients that use DefaultAzureCredential pick the user-assigned identity.
  AZURE_CLIENT_ID: identity.outputs.clientId

  // Application Insights with Entra authentication (local auth is off on the component).
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'

  // MailgunOptions (section "Mailgun")
  Mailgun__SigningKeys__primary: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=mailgun-signing-key-primary)'
  Mailgun__ApiKey: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=mailgun-api-key)'

  // TenantsOptions (section "Tenants"): the registry's key-encryption key k1 names the Key Vault secret; rotate by adding k2.
  Tenants__DefaultTenantId: tenantsDefaultTenantId
  Tenants__KeyEncryptionKeys__k1: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=tenant-registry-kek-k1)'
  Tenants__ActiveKeyId: 'k1'
  Tenants__CacheLifetime: tenantsCacheLifetime
  Tenants__UnknownTenantCacheLifetime: tenantsUnknownTenantCacheLifetime
  Tenants__CacheSize: string(tenantsCacheSize)

  // WebhookOptions (section "Webhooks")
  Webhooks__MaxSignatureAge: webhooksMaxSignatureAge
  Webhooks__MaxClockSkew: webhooksMaxClockSkew
  Webhooks__MaxEventBodyBytes: string(webhooksMaxEventBodyBytes)
  Webhooks__EngagementEvents: string(webhooksEngagementEvents)

  // StorageOptions (section "Storage")
  Storage__MaxRetries: string(storageMaxRetries)
  Storage__NetworkTimeout: storageNetworkTimeout
  Storage__Shards: string(storageShards)

  // RateOptions (section "Rates"): per-tenant daily rates (docs/rates.md)
  Rates__HardBounceWarning: ratesHardBounceWarning
  Rates__HardBounceCritical: ratesHardBounceCritical
  Rates__ComplaintWarning: ratesComplaintWarning
  Rates__ComplaintCritical: ratesComplaintCritical
  Rates__MinimumVolume: string(ratesMinimumVolume)
  Rates__Shards: string(ratesShards)

  // TelemetryOptions (section "Telemetry"): the worker's own dependency spans (docs/operations.md#telemetry)
  Telemetry__SamplingRatio: telemetrySamplingRatio

  // ClassifierOptions (section "Classifier")
  Classifier__MailboxFullIsPermanent: string(classifierMailboxFullIsPermanent)
  Classifier__CarrierUnknownNumberIsSoft: string(classifierCarrierUnknownNumberIsSoft)
  Classifier__GaveUpAfterRetriesIsPermanent: string(classifierGaveUpAfterRetriesIsPermanent)
  Classifier__MaxScannedCharacters: string(classifierMaxScannedCharacters)

  // DndOptions (section "Dnd")
  Dnd__TemporaryDuration: dndTemporaryDuration
  Dnd__SoftBounceEscalationCount: string(dndSoftBounceEscalationCount)
  Dnd__SoftBounceEscalationWindow: dndSoftBounceEscalationWindow
  Dnd__ContactIdVariable: dndContactIdVariable
  Dnd__SenderIssueBucket: dndSenderIssueBucket
  Dnd__SenderIssueWarningThreshold: string(dndSenderIssueWarningThreshold)
  Dnd__MaxWriteAttempts: string(dndMaxWriteAttempts)

  // ChangeFeedOptions (section "ChangeFeed") and NotificationOptions (section "Notifications"): docs/change-feed.md.
  // The default secret is a Key Vault reference only when one was given (an unresolvable reference would be its own text).
  ChangeFeed__SafetyMargin: changeFeedSafetyMargin
  ChangeFeed__Retention: changeFeedRetention
  ChangeFeed__SweepAfter: changeFeedSweepAfter
  ChangeFeed__PageSize: string(changeFeedPageSize)
  ChangeFeed__ExpiryConcurrency: string(changeFeedExpiryConcurrency)
  Notifications__DefaultUrl: empty(notificationsDefaultUrl) ? '' : notificationsDefaultUrl
  Notifications__DefaultSecret: empty(notificationsDefaultSecret) ? '' : '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=platform-notification-secret)'
  Notifications__Timeout: notificationsTimeout
  Notifications__FirstRetryDelay: notificationsFirstRetryDelay
  Notifications__MaxRetryDelay: notificationsMaxRetryDelay
  Notifications__RetryFor: notificationsRetryFor
  Notifications__MaxConcurrentPosts: string(notificationsMaxConcurrentPosts)
  Notifications__MaxWaitingPosts: string(notificationsMaxWaitingPosts)

  // Suppression export (SuppressionExportOptions, and the timer's %EXPORT_SCHEDULE%)
  SuppressionExport__BlockSizeBytes: string(suppressionExportBlockSizeBytes)
  SuppressionExport__FanOutConcurrency: string(suppressionExportFanOutConcurrency)
  SuppressionExport__JobTimeBudget: suppressionExportJobTimeBudget
  SuppressionExport__ReviewWebhookUrl: suppressionExportReviewWebhookUrl
  EXPORT_SCHEDULE: exportSchedule

  // InboundOptions (section "Inbound")
  Inbound__MaxRequestBytes: string(inboundMaxRequestBytes)
  Inbound__RawRetentionDays: string(inboundRawRetentionDays)
  Inbound__MaxFieldChars: string(inboundMaxFieldChars)

  // MailgunApiOptions (section "MailgunApi"); the API key is Mailgun__ApiKey above.
  MailgunApi__Domains__0__Name: mailgunDomain
  MailgunApi__Domains__0__Region: mailgunDomainRegion
  MailgunApi__UsBaseUrl: mailgunApiUsBaseUrl
  MailgunApi__EuBaseUrl: mailgunApiEuBaseUrl
  MailgunApi__AttemptTimeout: mailgunApiAttemptTimeout
  MailgunApi__PageReadTimeout: mailgunApiPageReadTimeout
  MailgunApi__MaxRetryAttempts: string(mailgunApiMaxRetryAttempts)
  MailgunApi__RetryBaseDelay: mailgunApiRetryBaseDelay
  MailgunApi__MaxRetryDelay: mailgunApiMaxRetryDelay
  MailgunApi__SuppressionPageSize: string(mailgunApiSuppressionPageSize)
  MailgunApi__EventPageSize: string(mailgunApiEventPageSize)

  // UnsubscribeOptions (section "Unsubscribe"): key id k1 names the Key Vault secret; rotate by adding k2.
  Unsubscribe__Keys__k1: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=unsubscribe-link-key)'
  Unsubscribe__ActiveKeyId: 'k1'
  Unsubscribe__BaseUrl: empty(unsubscribeBaseUrl) ? 'https://${functionAppName}.azurewebsites.net/api/unsubscribe' : unsubscribeBaseUrl
  Unsubscribe__MailtoAddress: empty(unsubscribeMailtoAddress) ? '' : unsubscribeMailtoAddress

  // SuppressionReconcilerOptions (section "SuppressionReconciliation")
  SuppressionReconciliation__MaxDndKeysInMemory: string(reconciliationMaxDndKeysInMemory)
  SuppressionReconciliation__MaxAllowlistEntries: string(reconciliationMaxAllowlistEntries)
  SuppressionReconciliation__ReviewFilterFalsePositiveRate: reconciliationReviewFilterFalsePositiveRate
}

// During a rotation only: a reference to a secret that does not exist would become a usable "key" of its own text.
var rotationSettings = empty(mailgunNextSigningKey)
  ? {}
  : {
      Mailgun__SigningKeys__next: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=mailgun-signing-key-next)'
    }

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  // Key Vault references and identity-based storage must work at the app's first start.
  dependsOn: [rbac]
  params: {
    name: functionAppName
    planName: 'plan-mailgun-${resourceToken}'
    location: location
    tags: tags
    appTags: union(tags, { 'azd-service-name': 'functions' })
    identityId: identity.outputs.id
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    appSettings: appSettings
    rotationSettings: rotationSettings
  }
}

// azd stores outputs in the environment (.azure/<env>/.env); the docs' commands use them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output MAILGUN_EVENTS_WEBHOOK_PATH string = '/api/mailgun/events'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_CLIENT_ID string = identity.outputs.clientId
