// Exactly the data-plane roles the app's identity needs, each scoped to the one resource it is for.
// No control-plane roles (Contributor, Owner...) and nothing at resource-group scope.

@description('Name of the app\'s user-assigned identity.')
param identityName string

@description('Storage account of the app and of the Functions host.')
param storageAccountName string

@description('Storage accounts of shards 1 to K-1 (docs/scaling.md): the app\'s data only, no host state.')
param shardStorageAccountNames array = []

@description('Key Vault holding the app\'s secrets.')
param keyVaultName string

@description('Application Insights component the app sends telemetry to.')
param applicationInsightsName string

// Built-in role definition ids (the same in every tenant).
var roles = {
  // The Functions host keeps leases, timer state and the deployment package in blobs; the app's claim check too.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Queue triggers, the app's own producers and the host's poison queues.
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // Webhook tokens, DND state and history tables.
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // A shard's blobs: the app's claim-check payloads and raw inbound mail (no host leases or package there).
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  // Key Vault references in the app settings.
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  // Entra-authenticated ingestion into Application Insights (local auth is off).
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

var storageRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

// A shard account holds only what the app reads and writes itself, and its queue triggers' messages.
var shardStorageRoles = [
  roles.storageBlobDataContributor
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

// Assignment names hash the identity's resource id (known before deployment) rather than its principal id (known
// only after), so What-If can predict them.
var principalId = identity.properties.principalId

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource storageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in storageRoles: {
    name: guid(storage.id, identity.id, role)
    scope: storage
    properties: {
      principalId: principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]

resource shardStorage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = [
  for shardName in shardStorageAccountNames: {
    name: shardName
  }
]

// One assignment per (shard, role): index i is shard i / 3 and role i % 3 (Bicep has no nested loops).
resource shardStorageAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for i in range(0, length(shardStorageAccountNames) * length(shardStorageRoles)): {
    name: guid(shardStorage[i / length(shardStorageRoles)].id, identity.id, shardStorageRoles[i % length(shardStorageRoles)])
    scope: shardStorage[i / length(shardStorageRoles)]
    properties: {
      principalId: principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', shardStorageRoles[i % length(shardStorageRoles)])
    }
  }
]

resource keyVaultAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

resource monitoringAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}
