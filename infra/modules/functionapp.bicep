// The Function App on the Flex Consumption plan (FC1, Linux): the only plan besides Premium/Dedicated that runs
// the isolated worker on .NET 10. Flex has no FUNCTIONS_WORKER_RUNTIME / WEBSITE_RUN_FROM_PACKAGE settings:
// runtime and deployment source live in functionAppConfig instead.

@description('Function App name (also the default host id: keep the first 32 characters unique per storage account).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags for the plan.')
param tags object

@description('Tags for the Function App (azd finds the service by its azd-service-name tag).')
param appTags object

@description('Resource id of the user-assigned identity.')
param identityId string

@description('Blob container URL of the deployment package.')
param deploymentContainerUrl string

@description('Memory of one instance in MB (Flex sizes: 512, 2048 or 4096).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Upper bound of instances the app scales out to (Flex: 40 to 1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('App settings (name to value). Secrets must be Key Vault references, never values.')
param appSettings object

@description('Settings that exist only during a signing-key rotation; merged over appSettings.')
param rotationSettings object

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: appTags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references are resolved with this identity (default would be a system-assigned one, which we don't have).
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: app
  name: 'appsettings'
  properties: union(appSettings, rotationSettings)
}

// Deployments go through Entra ID (azd, az CLI, func); basic-auth publishing credentials stay off.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
