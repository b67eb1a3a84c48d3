import {
  AggregationTemporality,
  type DataPoint,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics'
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import nock from 'nock'
import { afterEach, beforeAll, beforeEach } from 'vitest'

export const ISSUER = 'https://auth.example.test'
export const TOKEN_URL = `${ISSUER}/oauth/token`

type Reply = [number, unknown, (Record<string, string> | undefined)?]

/**
 * Mocks the token endpoint with nock; `reply` answers each request in turn (by its index).
 * Returns the request bodies it received; a mock none reached fails the test (see {@link useNock}).
 */
export function tokenEndpoint(
  reply: (index: number, body: string) => Reply = () => [
    200,
    { access_token: 'at-1', token_type: 'Bearer', expires_in: 3600 },
  ],
  { path = '/oauth/token' }: { path?: string } = {},
): string[] {
  const seen: string[] = []
  nock(ISSUER)
    .persist()
    .post(path)
    .query(true)
    .reply((_uri, body) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body)
      seen.push(text)
      const [status, payload, headers] = reply(seen.length - 1, text)
      return [status, JSON.stringify(payload), { 'content-type': 'application/json', ...headers }]
    })
  return seen
}

/** Every test starts with no mocks and no real network, and fails when a mock went unused. */
export function useNock(): void {
  beforeAll(() => {
    nock.disableNetConnect()
  })
  beforeEach(() => {
    nock.cleanAll()
  })
  afterEach(() => {
    const unused = nock.pendingMocks()
    nock.cleanAll()
    if (unused.length > 0) throw new Error(`Mocked requests never sent: ${unused.join(', ')}`)
  })
}

/** A reader the test collects from by hand. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** An SDK tracer provider and meter provider that keep everything in memory. */
export function telemetry() {
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  })
  const reader = new TestReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  let last: ResourceMetrics | undefined
  return {
    tracerProvider,
    meterProvider,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    /** Collects every metric now. */
    async collect(): Promise<ResourceMetrics> {
      const { resourceMetrics, errors } = await reader.collect()
      if (errors.length > 0) throw errors[0]
      last = resourceMetrics
      return resourceMetrics
    },
    /** The data points of metric `name` in the last collection. */
    points(name: string): DataPoint<unknown>[] {
      const metric = last?.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .find((m) => m.descriptor.name === name)
      return (metric?.dataPoints ?? []) as DataPoint<unknown>[]
    },
    /** The sum of metric `name`'s points whose attributes include `match`. */
    sum(name: string, match: Record<string, unknown> = {}): number {
      return this.points(name)
        .filter((point) =>
          Object.entries(match).every(([key, value]) => point.attributes[key] === value),
        )
        .reduce((total, point) => {
          const value = point.value as number | { sum: number }
          return total + (typeof value === 'number' ? value : value.sum)
        }, 0)
    },
  }
}
