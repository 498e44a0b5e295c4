// The one user-assigned identity the app uses for everything: the Functions host's storage, the deployment
// package, the app's own queue/table/blob clients, Key Vault references and Application Insights ingestion.
// User-assigned (not system-assigned) so its role assignments exist before the app's first start.

@description('Name of the user-assigned managed identity.')
param name string

@description('Azure region.')
param location string

@description('Tags for the resource.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
