// Alert rules on the app's Application Insights (log search alerts), sent to an action group the operators own, and the
// operations workbook. Every query reads what the app writes: log event ids (customDimensions.EventId), the host's request
// records, and the worker's metrics (customMetrics). docs/operations.md#alerts-as-code explains each rule.

@description('Prefix of the alert rule names.')
param namePrefix string

@description('Azure region.')
param location string

@description('Tags for the resources.')
param tags object

@description('Name of the Application Insights component (in this resource group) the rules query.')
param applicationInsightsName string

@description('Resource id of the action group the alerts notify; empty: the workbook only, no alert rules.')
param actionGroupId string

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// One entry per rule: the query returns rows only when the rule should fire (Count > 0 over the window).
var requestsOfTheEventsWebhook = 'requests | where name in ("MailgunEvents", "MailgunTenantEvents")'
var rules = [
  {
    name: 'poison-queue'
    displayName: 'Mailgun events moved to the poison queue'
    description: 'An event was not applied: the processor poisoned it (event 2001) or the host moved it after maxDequeueCount failures. mailgun-ops poison list shows them.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'traces | where tostring(customDimensions.EventId) == "2001" or message has "mailgun-events-poison"'
  }
  {
    name: 'sender-issue-storm'
    displayName: 'Sender-side failure storm'
    description: 'A tenant passed the sender-side failure threshold in one bucket (event 3004): authentication, reputation or content, not the contacts.'
    severity: 1
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'traces | where tostring(customDimensions.EventId) == "3004"'
  }
  {
    name: 'export-failure'
    displayName: 'Suppression export failed'
    description: 'A tenant scope of the nightly export failed for good (event 7021) or an export job keeps being retried. mailgun-ops export status shows the night.'
    severity: 2
    frequency: 'PT15M'
    window: 'PT1H'
    query: 'union (traces | where tostring(customDimensions.EventId) == "7021"), (customMetrics | where name == "mailgun.export.jobs" and tostring(customDimensions.outcome) == "failed")'
  }
  {
    name: 'rate-warning'
    displayName: 'Tenant hard-bounce or complaint rate at the warning threshold'
    description: 'A tenant reached Rates__HardBounceWarning or Rates__ComplaintWarning today (event 15001). mailgun-ops stats --tenant T shows the days.'
    severity: 2
    frequency: 'PT15M'
    window: 'PT15M'
    query: 'traces | where tostring(customDimensions.EventId) == "15001"'
  }
  {
    name: 'rate-critical'
    displayName: 'Tenant hard-bounce or complaint rate at the critical threshold'
    description: 'A tenant reached the rate where the platform suspends sending (event 15002).'
    severity: 0
    frequency: 'PT5M'
    window: 'PT5M'
    query: 'traces | where tostring(customDimensions.EventId) == "15002"'
  }
  {
    name: 'webhook-401-spike'
    displayName: 'Events webhook: spike of 401'
    description: 'More than 5% of the events webhook answers (at least 20) were 401 in 15 minutes: a signing key rotated in Mailgun and not here, or a forged sender.'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: '${requestsOfTheEventsWebhook} | summarize total = count(), refused = countif(resultCode == "401") | where refused >= 20 and refused > total * 0.05'
  }
  {
    name: 'webhook-503-spike'
    displayName: 'Events webhook: spike of 503'
    description: 'More than 1% of the events webhook answers (at least 10) were 503 in 15 minutes: storage unreachable; Mailgun retries, but only for hours.'
    severity: 1
    frequency: 'PT5M'
    window: 'PT15M'
    query: '${requestsOfTheEventsWebhook} | summarize total = count(), unavailable = countif(resultCode == "503") | where unavailable >= 10 and unavailable > total * 0.01'
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for rule in (empty(actionGroupId) ? [] : rules): {
  name: '${namePrefix}-${rule.name}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: rule.displayName
    description: rule.description
    severity: rule.severity
    enabled: true
    evaluationFrequency: rule.frequency
    windowSize: rule.window
    scopes: [
      applicationInsights.id
    ]
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroupId
      ]
    }
  }
}]

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsights.id, 'mailgun-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'MailgunFunctions operations'
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: loadTextContent('../workbooks/operations.workbook.json')
  }
}

output alertRuleNames array = [for (rule, i) in (empty(actionGroupId) ? [] : rules): alertRules[i].name]
