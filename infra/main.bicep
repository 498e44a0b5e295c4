// MailgunFunctions: from an empty resource group to a running, identity-only deployment.
// `azd up` deploys this file (see azure.yaml); by hand: `az deployment group create -g RG -f infra/main.bicep -p ...`
// (docs/readme/deployment.md). Plain resource declarations only: registry modules cannot be restored offline,
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

// ---------------------------------------------------------------------------------------------------------
// App options: one parameter per option, with the same default as the options class (a test checks both)
// ---------------------------------------------------------------------------------------------------------

@description('Webhooks:MaxSignatureAge, oldest signature timestamp accepted (TimeSpan). Mailgun retries for about 8 hours.')
param webhooksMaxSignatureAge string = '12:00:00'

@description('Webhooks:MaxClockSkew, how far in the future a signature timestamp may be (TimeSpan).')
param webhooksMaxClockSkew string = '00:05:00'

@description('Webhooks:MaxEventBodyBytes, largest events webhook body accepted.')
param webhooksMaxEventBodyBytes int = 1048576

@description('Storage:MaxRetries, retries of one storage request by the app\'s own clients.')
param storageMaxRetries int = 2

@description('Storage:NetworkTimeout, timeout of one storage request attempt (TimeSpan).')
param storageNetworkTimeout string = '00:00:10'

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

  // WebhookOptions (section "Webhooks")
  Webhooks__MaxSignatureAge: webhooksMaxSignatureAge
  Webhooks__MaxClockSkew: webhooksMaxClockSkew
  Webhooks__MaxEventBodyBytes: string(webhooksMaxEventBodyBytes)

  // StorageOptions (section "Storage")
  Storage__MaxRetries: string(storageMaxRetries)
  Storage__NetworkTimeout: storageNetworkTimeout

  // SuppressionReconcilerOptions (section "SuppressionReconciliation")
  SuppressionReconciliation__MaxDndKeysInMemory: string(reconciliationMaxDndKeysInMemory)
  SuppressionReconciliation__MaxAllowlistEntries: string(reconciliationMaxAllowlistEntries)
  SuppressionReconciliation__ReviewFilterFalsePositiveRate: reconciliationReviewFilterFalsePositiveRate

  // Unsubscribe links (the option class that reads it lands with the unsubscribe feature).
  Unsubscribe__LinkKey: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=unsubscribe-link-key)'
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
