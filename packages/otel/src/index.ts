/**
 * OpenTelemetry for `@oauth-interceptors/core`: a CLIENT span per token request and metrics of
 * token requests, failures, retries, refresh reasons, cache hits and rejection backoffs, from a
 * token manager's events. Start with {@link instrument}.
 *
 * @packageDocumentation
 * @module @oauth-interceptors/otel
 */
import type { OAuthInterceptorsError, TokenEvent, TokenManager } from '@oauth-interceptors/core'
import {
  type Attributes,
  type Meter,
  type MeterProvider,
  metrics,
  type ObservableResult,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import { name, version } from '../package.json'

/** The instrumentation scope of the tracer and the meter: this package's name. */
export const INSTRUMENTATION_NAME: string = name
/** The instrumentation scope's version: this package's version. */
export const INSTRUMENTATION_VERSION: string = version

/** The name of the span of a token request. */
export const SPAN_NAME = 'oauth.token.request'

/** Attribute names on spans and metric points (OpenTelemetry semantic-convention style). */
export const ATTR = {
  /** The grant the request used: `client_credentials`, `password`, `refresh_token`, `custom`, … */
  grantType: 'oauth.grant_type',
  /** Why the token was needed: `cold` (none yet), `expiring` (proactive refresh) or `rejected` (after a 401). */
  reason: 'oauth.token.reason',
  /** `success` or `failure`. */
  outcome: 'oauth.token.outcome',
  /** HTTP requests the token request sent, retries included. */
  attempts: 'oauth.token.attempt_count',
  /** The attempt a span event is about (1 for the first). */
  attempt: 'oauth.token.attempt',
  /** How long the manager waits before the next attempt, in seconds. */
  retryDelay: 'oauth.token.retry_delay',
  /** `endpoint`, or `store` when the shared store had a token. */
  source: 'oauth.token.source',
  /** The kind of token a revocation was about: `access_token` or `refresh_token`. */
  tokenType: 'oauth.token.type_hint',
  /** The `TokenStore` method that failed. */
  storeOperation: 'oauth.store.operation',
  /** The error's `code`, e.g. `invalid_client`, `http_error`, `timeout`, `network_error`. */
  errorType: 'error.type',
  /** The token endpoint's HTTP status, when a response arrived. */
  httpStatus: 'http.response.status_code',
} as const

/** Metric names (see the package README for units and attributes). */
export const METRIC = {
  /** Counter: token requests that ended, by grant type, reason, outcome and error type. */
  requests: 'oauth.token.requests',
  /** Histogram in seconds: how long token requests took, all attempts and backoff waits included. */
  duration: 'oauth.token.request.duration',
  /** Counter: HTTP requests sent to the token endpoint, retries included. */
  attempts: 'oauth.token.attempts',
  /** Counter: attempts that failed transiently and were tried again, by error type. */
  retries: 'oauth.token.retries',
  /** Counter: token requests that failed after every attempt, by error type (a `Retry-After` pause sends none, so counts none). */
  failures: 'oauth.token.failures',
  /**
   * Counter: tokens obtained because an API rejected the current one (`token_received` with
   * reason `rejected`): one per new token, however many 401s it answers, and counted before the
   * retried requests are sent, so not whether they succeeded (see the README).
   */
  recovered: 'oauth.token.rejections.recovered',
  /** Counter: times an API that rejects fresh tokens too made the manager stop asking for new ones for a while. */
  rejectionBackoffs: 'oauth.token.rejection_backoffs',
  /** Counter: refresh tokens refused, so the grant ran afresh, by error type. */
  refreshFallbacks: 'oauth.token.refresh_fallbacks',
  /** Observable counter: `getToken()` calls answered from memory (`stats().cacheHits`). */
  cacheHits: 'oauth.token.cache_hits',
  /** Counter: tokens taken from the shared store instead of the endpoint. */
  storeHits: 'oauth.token.store.hits',
  /** Counter: `TokenStore` calls that threw, by operation. */
  storeErrors: 'oauth.token.store.errors',
  /** Counter: tokens revoked or whose revocation failed, by token kind and outcome. */
  revocations: 'oauth.token.revocations',
} as const

/**
 * What {@link instrument} needs of a token manager: a `TokenManager` from
 * `@oauth-interceptors/core` (or an adapter's `manager`).
 */
export type InstrumentedManager = Pick<TokenManager, 'subscribe' | 'stats' | 'grantType'>

/** Options of {@link instrument}; all may be left out. */
export interface InstrumentOptions {
  /** The tracer for the spans. @default `tracerProvider`'s tracer of this package */
  tracer?: Tracer | undefined
  /** Where the tracer comes from, when `tracer` is not given. @default the global `trace` API's provider */
  tracerProvider?: TracerProvider | undefined
  /** The meter for the metrics. @default `meterProvider`'s meter of this package */
  meter?: Meter | undefined
  /**
   * Where the meter comes from, when `meter` is not given. The global metrics API has no
   * proxy: register the SDK before calling {@link instrument}, or pass it here.
   * @default the global `metrics` API's provider
   */
  meterProvider?: MeterProvider | undefined
  /**
   * Attributes added to every span and metric point, e.g. `{ 'oauth.client': 'orders' }` to
   * tell several instrumented managers apart. Never put a secret here.
   * @default none
   */
  attributes?: Attributes | undefined
}

/** Stops the instrumentation: no more spans or metric points from this manager. */
export type Uninstrument = () => void

/** A token request under way for one cache key (the manager runs one per key at a time). */
interface Flight {
  span: Span
  startedAt: number
  grantType: string
  reason: string
  attempts: number
}

/** Epoch milliseconds from the monotonic clock, the time input spans take. */
const now = (): number => performance.timeOrigin + performance.now()

/**
 * Traces and measures the token requests of `manager` with OpenTelemetry: one span of kind
 * CLIENT per token request, from its first attempt to the token or the final error (retries
 * and refresh-token fallbacks are span events), and the counters and histogram listed in the
 * README. Spans and metrics carry the grant type, the reason, the outcome and the error code,
 * never a token, a secret or a URL. Without an OpenTelemetry SDK the API is a no-op and so is
 * this. Uses the global `trace` and `metrics` APIs unless given a tracer, meter or provider.
 * @returns a function that unsubscribes from the manager's events
 * @example
 * import { instrument } from '@oauth-interceptors/otel'
 *
 * const tokens = createTokenManager({ grant: clientCredentials({ tokenUrl, clientId, clientSecret }) })
 * const uninstrument = instrument(tokens)
 */
export function instrument(
  manager: InstrumentedManager,
  options: InstrumentOptions = {},
): Uninstrument {
  const tracer =
    options.tracer ??
    (options.tracerProvider ?? trace.getTracerProvider()).getTracer(
      INSTRUMENTATION_NAME,
      INSTRUMENTATION_VERSION,
    )
  const meter =
    options.meter ??
    (options.meterProvider ?? metrics.getMeterProvider()).getMeter(
      INSTRUMENTATION_NAME,
      INSTRUMENTATION_VERSION,
    )
  const base = options.attributes ?? {}

  const requests = meter.createCounter(METRIC.requests, {
    description: 'Token requests that ended, each with all its attempts',
    unit: '{request}',
  })
  const duration = meter.createHistogram(METRIC.duration, {
    description: 'Duration of token requests, all attempts and backoff waits included',
    unit: 's',
    advice: {
      explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    },
  })
  const attempts = meter.createCounter(METRIC.attempts, {
    description: 'HTTP requests sent to the token endpoint, retries included',
    unit: '{attempt}',
  })
  const retries = meter.createCounter(METRIC.retries, {
    description: 'Token request attempts that failed transiently and were tried again',
    unit: '{retry}',
  })
  const failures = meter.createCounter(METRIC.failures, {
    description: 'Token requests that failed after every attempt',
    unit: '{failure}',
  })
  const recovered = meter.createCounter(METRIC.recovered, {
    description: 'Tokens obtained because an API rejected the one before (a 401)',
    unit: '{token}',
  })
  const rejectionBackoffs = meter.createCounter(METRIC.rejectionBackoffs, {
    description: 'Times an API rejected fresh tokens too, so no new one was asked for a while',
    unit: '{backoff}',
  })
  const refreshFallbacks = meter.createCounter(METRIC.refreshFallbacks, {
    description: 'Refresh tokens refused, so the grant ran afresh',
    unit: '{fallback}',
  })
  const storeHits = meter.createCounter(METRIC.storeHits, {
    description: 'Tokens taken from the shared store instead of the token endpoint',
    unit: '{token}',
  })
  const storeErrors = meter.createCounter(METRIC.storeErrors, {
    description: 'TokenStore calls that threw or rejected',
    unit: '{error}',
  })
  const revocations = meter.createCounter(METRIC.revocations, {
    description: 'Tokens revoked, or whose revocation failed',
    unit: '{token}',
  })
  const cacheHits = meter.createObservableCounter(METRIC.cacheHits, {
    description: 'getToken() calls answered from memory without waiting',
    unit: '{hit}',
  })
  const observeCacheHits = (result: ObservableResult) => {
    result.observe(manager.stats().cacheHits, { [ATTR.grantType]: manager.grantType, ...base })
  }
  cacheHits.addCallback(observeCacheHits)

  const flights = new Map<string, Flight>()

  const end = (key: string, error: OAuthInterceptorsError | undefined) => {
    const flight = flights.get(key)
    if (flight === undefined) return
    flights.delete(key)
    const endedAt = now()
    const attributes: Attributes = {
      ...base,
      [ATTR.grantType]: flight.grantType,
      [ATTR.reason]: flight.reason,
      [ATTR.outcome]: error ? 'failure' : 'success',
    }
    if (error) attributes[ATTR.errorType] = error.code
    const { span } = flight
    span.setAttributes({ ...attributes, [ATTR.attempts]: flight.attempts })
    if (error) {
      const status = statusOf(error)
      if (status !== undefined) span.setAttribute(ATTR.httpStatus, status)
      // The code, not the message: a message may quote the server's error description.
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.name}: ${error.code}` })
    }
    span.end(endedAt)
    requests.add(1, attributes)
    duration.record(Math.max(0, endedAt - flight.startedAt) / 1000, attributes)
  }

  const onEvent = (event: TokenEvent) => {
    switch (event.type) {
      case 'token_requested': {
        const grantType = event.via === 'refresh' ? 'refresh_token' : manager.grantType
        attempts.add(1, { ...base, [ATTR.grantType]: grantType, [ATTR.reason]: event.reason })
        let flight = flights.get(event.key)
        if (flight === undefined) {
          const startedAt = now()
          const span = tracer.startSpan(SPAN_NAME, {
            kind: SpanKind.CLIENT,
            startTime: startedAt,
            attributes: { ...base, [ATTR.grantType]: grantType, [ATTR.reason]: event.reason },
          })
          flight = { span, startedAt, grantType, reason: event.reason, attempts: 0 }
          flights.set(event.key, flight)
        } else if (flight.grantType !== grantType) {
          // A refused refresh token: the grant runs afresh in the same token request.
          flight.grantType = grantType
          flight.span.setAttribute(ATTR.grantType, grantType)
        }
        flight.attempts++
        return
      }
      case 'token_retry': {
        const flight = flights.get(event.key)
        flight?.span.addEvent(
          'oauth.token.retry',
          {
            [ATTR.attempt]: event.attempt,
            [ATTR.retryDelay]: event.delay / 1000,
            [ATTR.errorType]: event.error.code,
          },
          now(),
        )
        retries.add(1, {
          ...base,
          [ATTR.grantType]: flight?.grantType ?? manager.grantType,
          [ATTR.errorType]: event.error.code,
        })
        return
      }
      case 'refresh_fallback':
        flights
          .get(event.key)
          ?.span.addEvent(
            'oauth.token.refresh_fallback',
            { [ATTR.errorType]: event.error.code },
            now(),
          )
        refreshFallbacks.add(1, { ...base, [ATTR.errorType]: event.error.code })
        return
      case 'token_received': {
        const grantType = flights.get(event.key)?.grantType ?? manager.grantType
        if (event.source === 'store') storeHits.add(1, { ...base, [ATTR.reason]: event.reason })
        if (event.reason === 'rejected') recovered.add(1, { ...base, [ATTR.grantType]: grantType })
        flights.get(event.key)?.span.setAttribute(ATTR.source, event.source)
        end(event.key, undefined)
        return
      }
      case 'token_failed':
        failures.add(1, {
          ...base,
          [ATTR.grantType]: flights.get(event.key)?.grantType ?? manager.grantType,
          [ATTR.reason]: event.reason,
          [ATTR.errorType]: event.error.code,
        })
        end(event.key, event.error)
        return
      case 'rejection_backoff':
        rejectionBackoffs.add(1, { ...base, [ATTR.grantType]: manager.grantType })
        return
      case 'token_revoked':
        for (const kind of event.tokens) {
          revocations.add(1, { ...base, [ATTR.tokenType]: kind, [ATTR.outcome]: 'success' })
        }
        return
      case 'revocation_failed':
        revocations.add(1, {
          ...base,
          [ATTR.tokenType]: event.token,
          [ATTR.outcome]: 'failure',
          [ATTR.errorType]: event.error.code,
        })
        return
      case 'store_error':
        storeErrors.add(1, { ...base, [ATTR.storeOperation]: event.operation })
        return
    }
  }

  const unsubscribe = manager.subscribe(onEvent)
  return () => {
    unsubscribe()
    cacheHits.removeCallback(observeCacheHits)
    // Spans of requests still under way are dropped, not ended with a made-up outcome.
    flights.clear()
  }
}

/** The token endpoint's HTTP status an error carries (`OAuthError`, `TokenEndpointError`), if any. */
function statusOf(error: OAuthInterceptorsError): number | undefined {
  const status = (error as { status?: unknown }).status
  return typeof status === 'number' ? status : undefined
}
