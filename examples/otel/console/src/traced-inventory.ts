import { clientCredentials, createTokenManager } from '@oauth-interceptors/core'
import { oauthFetch } from '@oauth-interceptors/fetch'
import { instrument } from '@oauth-interceptors/otel'
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { ConsoleSpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'

export interface InventoryConfig {
  apiUrl: string
  tokenUrl: string
  clientId: string
  clientSecret: string
  resource?: string
}

/**
 * Reads stock levels with an instrumented token manager; the SDK prints each token-request span
 * as it ends and the metrics at `shutdown()`. A real app registers its SDK (e.g.
 * `@opentelemetry/sdk-node`) once and calls `instrument(tokens)` with no options.
 */
export function createTracedInventory(config: InventoryConfig) {
  const tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() })],
  })
  const reader = new PeriodicExportingMetricReader({
    exporter: new ConsoleMetricExporter(),
    exportIntervalMillis: 60_000,
  })
  const meterProvider = new MeterProvider({ readers: [reader] })

  const tokens = createTokenManager({
    grant: clientCredentials({
      tokenUrl: config.tokenUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      ...(config.resource && { resource: config.resource }),
    }),
  })
  const uninstrument = instrument(tokens, { tracerProvider, meterProvider })
  const authedFetch = oauthFetch({ manager: tokens }, { baseUrl: config.apiUrl })

  return {
    async stockOf(sku: string): Promise<unknown> {
      const url = new URL(`/stock/${encodeURIComponent(sku)}`, config.apiUrl)
      const response = await authedFetch(url)
      if (!response.ok) throw new Error(`Inventory API answered ${response.status}`)
      return await response.json()
    },
    /** Exports what is left (the metrics) and stops. */
    async shutdown(): Promise<void> {
      // The last export reads the cache hits, so unsubscribe after it.
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()])
      uninstrument()
    },
  }
}
