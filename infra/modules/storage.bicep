// A storage account of the app: the home account (the Functions host's and the app's own queues, tables and
// claim-check blobs), or one of the storage shards (docs/scaling.md), which hold the app's data only.
// Identity only: shared keys are off, so no connection string or SAS can be used against it.

@description('Storage account name (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for the resource.')
param tags object

@description('Replication: LRS is enough for queues of work in flight and DND state that Mailgun can rebuild; ZRS survives a zone outage.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param skuName string

@description('Blob container that holds the Flex Consumption deployment package; empty for a shard account (the app\'s package lives at home).')
param deploymentContainerName string = ''

@description('Blob container of the raw inbound mail (the app\'s StorageNames.InboundRawContainer).')
param inboundRawContainerName string

@description('Days raw inbound mail is kept (the app\'s Inbound:RawRetentionDays): the lifecycle rule deletes older blobs.')
@minValue(1)
param inboundRawRetentionDays int

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      // Flex Consumption without a virtual network reaches storage over public endpoints; identity is the boundary.
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = if (!empty(deploymentContainerName)) {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Raw replies are personal data: kept only as long as the app's setting says (each blob also carries a
// retainuntil metadata entry for people reading it; the rule is what deletes).
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-06-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          enabled: true
          name: 'mailgun-inbound-raw-retention'
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: ['blockBlob']
              prefixMatch: ['${inboundRawContainerName}/']
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: inboundRawRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
output deploymentContainerUrl string = empty(deploymentContainerName) ? '' : '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
