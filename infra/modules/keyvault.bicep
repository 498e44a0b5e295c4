// Key Vault holding the Mailgun secrets and the unsubscribe-link key. RBAC authorization (no access policies):
// the app's identity gets Key Vault Secrets User on this vault only (rbac.bicep). The app never sees the
// vault in code: app settings are Key Vault references resolved by the platform.
// Secret names are literals here and in main.bicep's app settings; the tests check that every reference
// names a secret declared below (a reference to a missing secret resolves to the reference text itself).

@description('Key Vault name (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for the resource.')
param tags object

@description('Days a deleted vault or secret can be recovered (7 to 90).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int

@description('Purge protection: once on it can never be turned off, and the vault name stays taken for the retention period after deletion.')
param enablePurgeProtection bool

@secure()
@description('Mailgun HTTP webhook signing key (key id "primary").')
param mailgunSigningKey string

@secure()
@description('Next Mailgun webhook signing key during a rotation (key id "next"); empty when not rotating.')
param mailgunNextSigningKey string

@secure()
@description('Mailgun private API key.')
param mailgunApiKey string

@secure()
@description('Key that signs the unsubscribe links.')
param unsubscribeLinkKey string

@secure()
@description('Key-encryption key of the tenant registry (key id "k1"): seals every tenant\'s Mailgun API key, signing keys and notification secret.')
param tenantRegistryKek string

@secure()
@description('Signs the single-account tenant\'s DND change notifications; empty: no such secret.')
param notificationsDefaultSecret string = ''

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // Key Vault rejects an explicit false once purge protection was on, so "off" is expressed by omission.
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource signingKeyPrimary 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'mailgun-signing-key-primary'
  properties: {
    value: mailgunSigningKey
    contentType: 'Mailgun HTTP webhook signing key'
  }
}

resource signingKeyNext 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(mailgunNextSigningKey)) {
  parent: vault
  name: 'mailgun-signing-key-next'
  properties: {
    value: mailgunNextSigningKey
    contentType: 'Mailgun HTTP webhook signing key (rotation)'
  }
}

resource apiKey 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'mailgun-api-key'
  properties: {
    value: mailgunApiKey
    contentType: 'Mailgun private API key'
  }
}

resource unsubscribeKey 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'unsubscribe-link-key'
  properties: {
    value: unsubscribeLinkKey
    contentType: 'Unsubscribe link signing key'
  }
}

resource tenantRegistryKey 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = {
  parent: vault
  name: 'tenant-registry-kek-k1'
  properties: {
    value: tenantRegistryKek
    contentType: 'Tenant registry key-encryption key (Tenants__KeyEncryptionKeys__k1)'
  }
}

resource notificationSecret 'Microsoft.KeyVault/vaults/secrets@2025-05-01' = if (!empty(notificationsDefaultSecret)) {
  parent: vault
  name: 'platform-notification-secret'
  properties: {
    value: notificationsDefaultSecret
    contentType: 'Signs the single-account tenant\'s DND change notifications (Notifications__DefaultSecret)'
  }
}

output name string = vault.name
output id string = vault.id
