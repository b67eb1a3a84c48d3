import {
  clientCredentials,
  createTokenManager,
  MemoryTokenStore,
  passwordGrant,
  type TokenManagerOptions,
} from '@oauth-interceptors/core'
import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { afterEach, describe, expect, it, vi } from 'vitest'
import packageJson from '../package.json' with { type: 'json' }
import {
  ATTR,
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  instrument,
  METRIC,
  SPAN_NAME,
} from '../src/index'
import { TOKEN_URL, telemetry, tokenEndpoint, useNock } from './helpers'

useNock()

afterEach(() => {
  vi.useRealTimers()
  trace.disable()
  metrics.disable()
})

const SECRET = 'client-secret-s3cr3t'

function manager(options: Partial<TokenManagerOptions> = {}) {
  return createTokenManager({
    grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'orders', clientSecret: SECRET }),
    random: () => 0,
    ...options,
  })
}

/** A manager instrumented with in-memory SDK providers. */
function instrumented(options: Partial<TokenManagerOptions> = {}) {
  const otel = telemetry()
  const tokens = manager(options)
  const uninstrument = instrument(tokens, {
    tracerProvider: otel.tracerProvider,
    meterProvider: otel.meterProvider,
  })
  return { otel, tokens, uninstrument }
}

describe('spans', () => {
  it('makes one CLIENT span per token request, timed like the request, in the package scope', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] })
    tokenEndpoint(() => {
      vi.advanceTimersByTime(1_500) // the endpoint takes 1.5 s to answer
      return [200, { access_token: 'at-1', token_type: 'Bearer', expires_in: 3600 }]
    })
    const { otel, tokens } = instrumented()
    await Promise.all([tokens.getToken(), tokens.getToken(), tokens.getToken()])
    await tokens.getToken() // a cache hit: no span

    const spans = otel.spans()
    expect(spans).toHaveLength(1)
    const [span] = spans
    expect(span?.name).toBe(SPAN_NAME)
    expect(span?.kind).toBe(SpanKind.CLIENT)
    expect(span?.instrumentationScope).toMatchObject({
      name: '@oauth-interceptors/otel',
      version: packageJson.version,
    })
    expect(span?.attributes).toEqual({
      [ATTR.grantType]: 'client_credentials',
      [ATTR.reason]: 'cold',
      [ATTR.outcome]: 'success',
      [ATTR.attempts]: 1,
      [ATTR.source]: 'endpoint',
    })
    expect(span?.status.code).toBe(SpanStatusCode.UNSET)
    const [seconds, nanos] = span?.duration ?? [0, 0]
    expect(seconds + nanos / 1e9).toBeCloseTo(1.5, 3)

    await otel.collect()
    expect(otel.sum(METRIC.duration, { [ATTR.outcome]: 'success' })).toBeCloseTo(1.5, 3)
  })

  it('records retries as span events and counts every attempt', async () => {
    tokenEndpoint((index) =>
      index < 2 ? [503, { error: 'temporarily_unavailable' }] : [200, { access_token: 'at-3' }],
    )
    const { otel, tokens } = instrumented()
    await tokens.getToken()

    const [span] = otel.spans()
    expect(span?.attributes[ATTR.attempts]).toBe(3)
    expect(span?.attributes[ATTR.outcome]).toBe('success')
    expect(span?.events.map((event) => [event.name, event.attributes])).toEqual([
      [
        'oauth.token.retry',
        { [ATTR.attempt]: 1, [ATTR.retryDelay]: 0, [ATTR.errorType]: 'temporarily_unavailable' },
      ],
      [
        'oauth.token.retry',
        { [ATTR.attempt]: 2, [ATTR.retryDelay]: 0, [ATTR.errorType]: 'temporarily_unavailable' },
      ],
    ])
    await otel.collect()
    expect(otel.sum(METRIC.attempts, { [ATTR.grantType]: 'client_credentials' })).toBe(3)
    expect(otel.sum(METRIC.retries, { [ATTR.errorType]: 'temporarily_unavailable' })).toBe(2)
    expect(otel.sum(METRIC.requests, { [ATTR.outcome]: 'success' })).toBe(1)
  })

  it('sets status ERROR with the error code, not the server text, on a failed request', async () => {
    tokenEndpoint(() => [
      401,
      { error: 'invalid_client', error_description: `bad secret ${SECRET}` },
    ])
    const { otel, tokens } = instrumented()
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'invalid_client' })

    const [span] = otel.spans()
    expect(span?.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'OAuthError: invalid_client',
    })
    expect(span?.attributes).toMatchObject({
      [ATTR.outcome]: 'failure',
      [ATTR.errorType]: 'invalid_client',
      [ATTR.httpStatus]: 401,
      [ATTR.attempts]: 1,
    })
    await otel.collect()
    expect(otel.sum(METRIC.failures, { [ATTR.errorType]: 'invalid_client' })).toBe(1)
    expect(
      otel.sum(METRIC.requests, { [ATTR.outcome]: 'failure', [ATTR.errorType]: 'invalid_client' }),
    ).toBe(1)
  })

  it('follows a refused refresh token into the fresh login within one span', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] })
    tokenEndpoint((index, body) => {
      if (index === 0)
        return [200, { access_token: 'at-1', refresh_token: 'rt-1', expires_in: 600 }]
      if (body.includes('refresh_token')) return [400, { error: 'invalid_grant' }]
      return [200, { access_token: 'at-2', refresh_token: 'rt-2', expires_in: 600 }]
    })
    const { otel, tokens } = instrumented({
      grant: passwordGrant({
        tokenUrl: TOKEN_URL,
        clientId: 'orders',
        username: 'alice',
        password: 'pa55word',
      }),
    })
    await tokens.getToken()
    vi.advanceTimersByTime(590_000) // into the early-refresh window
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-2' })

    const [, refresh] = otel.spans()
    expect(refresh?.attributes).toMatchObject({
      [ATTR.grantType]: 'password',
      [ATTR.reason]: 'expiring',
      [ATTR.attempts]: 2,
      [ATTR.outcome]: 'success',
    })
    expect(refresh?.events.map((event) => [event.name, event.attributes])).toEqual([
      ['oauth.token.refresh_fallback', { [ATTR.errorType]: 'invalid_grant' }],
    ])
    await otel.collect()
    expect(otel.sum(METRIC.attempts, { [ATTR.grantType]: 'refresh_token' })).toBe(1)
    expect(otel.sum(METRIC.refreshFallbacks, { [ATTR.errorType]: 'invalid_grant' })).toBe(1)
  })
})

describe('metrics', () => {
  it('counts token requests by reason: cold, expiring and rejected (a recovered 401)', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] })
    let issued = 0
    tokenEndpoint(() => [200, { access_token: `at-${++issued}`, expires_in: 600 }])
    const { otel, tokens } = instrumented()
    await tokens.getToken()
    vi.advanceTimersByTime(590_000)
    const { accessToken } = await tokens.getToken()
    expect(tokens.reject(accessToken)).toBe('dropped')
    await tokens.getToken()

    await otel.collect()
    for (const reason of ['cold', 'expiring', 'rejected']) {
      expect(otel.sum(METRIC.requests, { [ATTR.reason]: reason })).toBe(1)
    }
    expect(otel.sum(METRIC.recovered, { [ATTR.grantType]: 'client_credentials' })).toBe(1)
    expect(otel.sum(METRIC.requests)).toBe(3)
  })

  it('counts a recovered rejection once per new token: not per 401, and whatever the retry then gets', async () => {
    let issued = 0
    const seen = tokenEndpoint(() => [200, { access_token: `at-${++issued}` }])
    const { otel, tokens } = instrumented()
    const { accessToken } = await tokens.getToken()
    // Five requests rejected with the same token: the first drops it, the others are stale.
    const verdicts = Array.from({ length: 5 }, () => tokens.reject(accessToken))
    expect(verdicts).toEqual(['dropped', 'stale', 'stale', 'stale', 'stale'])
    const fresh = await tokens.getToken()
    // The API rejects the new token too: a backoff, but the new token was still obtained.
    expect(tokens.reject(fresh.accessToken)).toBe('backoff')

    await otel.collect()
    expect(seen).toHaveLength(2)
    expect(otel.sum(METRIC.recovered)).toBe(1)
    expect(otel.sum(METRIC.rejectionBackoffs)).toBe(1)
  })

  it('counts rejection backoffs', async () => {
    let issued = 0
    tokenEndpoint(() => [200, { access_token: `at-${++issued}` }])
    const { otel, tokens } = instrumented()
    expect(tokens.reject((await tokens.getToken()).accessToken)).toBe('dropped')
    expect(tokens.reject((await tokens.getToken()).accessToken)).toBe('backoff')

    await otel.collect()
    expect(otel.sum(METRIC.rejectionBackoffs)).toBe(1)
  })

  it('makes no span and counts no failure while the server asked to wait: no request was sent', async () => {
    tokenEndpoint(() => [429, { error: 'slow_down' }, { 'retry-after': '30' }])
    const { otel, tokens } = instrumented({ retry: false })
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'slow_down' })
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'slow_down' })

    expect(otel.spans()).toHaveLength(1)
    await otel.collect()
    expect(otel.sum(METRIC.failures, { [ATTR.errorType]: 'slow_down' })).toBe(1)
    expect(otel.sum(METRIC.requests, { [ATTR.outcome]: 'failure' })).toBe(1)
    expect(otel.sum(METRIC.attempts)).toBe(1)
  })

  it('counts tokens a shared store had, with no span for them', async () => {
    tokenEndpoint()
    const store = new MemoryTokenStore()
    const first = instrumented({ store })
    await first.tokens.getToken()
    const second = instrumented({ store })
    await expect(second.tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })

    expect(second.otel.spans()).toEqual([])
    await second.otel.collect()
    expect(second.otel.sum(METRIC.storeHits, { [ATTR.reason]: 'cold' })).toBe(1)
    expect(second.otel.sum(METRIC.requests)).toBe(0)
  })

  it('observes cache hits from stats()', async () => {
    tokenEndpoint()
    const { otel, tokens } = instrumented()
    for (let call = 0; call < 4; call++) await tokens.getToken()

    await otel.collect()
    expect(otel.sum(METRIC.cacheHits, { [ATTR.grantType]: 'client_credentials' })).toBe(3)
  })

  it('adds the given attributes to every span and metric point', async () => {
    tokenEndpoint()
    const otel = telemetry()
    const tokens = manager()
    instrument(tokens, {
      tracer: otel.tracerProvider.getTracer('app'),
      meter: otel.meterProvider.getMeter('app'),
      attributes: { 'oauth.client': 'orders' },
    })
    await tokens.getToken()
    await tokens.getToken()

    expect(otel.spans()[0]?.attributes['oauth.client']).toBe('orders')
    expect(otel.spans()[0]?.instrumentationScope.name).toBe('app')
    await otel.collect()
    for (const name of [METRIC.requests, METRIC.duration, METRIC.attempts, METRIC.cacheHits]) {
      expect(otel.points(name).map((point) => point.attributes['oauth.client'])).toEqual(['orders'])
    }
  })
})

describe('secrets', () => {
  it('never exports a token, a secret or the token URL query', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] })
    const tokenUrl = `${TOKEN_URL}?tenant=tenant-q5ecret`
    tokenEndpoint((index, body) => {
      if (index === 0) {
        return [200, { access_token: 'at-0bf8e3', refresh_token: 'rt-7c1d9a', expires_in: 600 }]
      }
      if (body.includes('refresh_token'))
        return [400, { error: 'invalid_grant', error_description: 'rt-7c1d9a' }]
      if (index === 2) return [503, { error: 'server_error', error_description: 'pa55word-xyz' }]
      return [401, { error: 'invalid_client', error_description: `nope ${SECRET} at-0bf8e3` }]
    })
    const { otel, tokens } = instrumented({
      grant: passwordGrant({
        tokenUrl,
        clientId: 'orders',
        clientSecret: SECRET,
        username: 'alice',
        password: 'pa55word-xyz',
      }),
    })
    await tokens.getToken()
    vi.advanceTimersByTime(590_000)
    await tokens.getToken() // the early refresh fails; the current token is served meanwhile
    expect(tokens.reject('at-0bf8e3')).toBe('dropped')
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'invalid_client' })

    const exported = JSON.stringify({
      spans: otel.spans().map((span) => ({
        name: span.name,
        attributes: span.attributes,
        events: span.events,
        status: span.status,
        links: span.links,
        resource: span.resource.attributes,
      })),
      metrics: await otel.collect(),
    })
    expect(otel.spans().length).toBeGreaterThanOrEqual(3)
    expect(exported).toContain('invalid_client')
    for (const secret of ['at-0bf8e3', 'rt-7c1d9a', SECRET, 'pa55word-xyz', 'q5ecret', 'alice']) {
      expect(exported).not.toContain(secret)
    }
  })
})

describe('instrument()', () => {
  it('names its metrics as the README documents them', () => {
    expect(Object.values(METRIC).sort()).toEqual([
      'oauth.token.attempts',
      'oauth.token.cache_hits',
      'oauth.token.failures',
      'oauth.token.refresh_fallbacks',
      'oauth.token.rejection_backoffs',
      'oauth.token.rejections.recovered',
      'oauth.token.request.duration',
      'oauth.token.requests',
      'oauth.token.retries',
      'oauth.token.revocations',
      'oauth.token.store.errors',
      'oauth.token.store.hits',
    ])
    expect(ATTR.attempts).toBe('oauth.token.attempt_count')
  })

  it('uses the global trace and metrics APIs by default, with the package as scope', async () => {
    tokenEndpoint()
    const otel = telemetry()
    trace.setGlobalTracerProvider(otel.tracerProvider)
    metrics.setGlobalMeterProvider(otel.meterProvider)
    const tokens = manager()
    instrument(tokens)
    await tokens.getToken()

    expect(otel.spans().map((span) => span.instrumentationScope)).toMatchObject([
      { name: INSTRUMENTATION_NAME, version: INSTRUMENTATION_VERSION },
    ])
    expect(INSTRUMENTATION_NAME).toBe(packageJson.name)
    await otel.collect()
    expect(otel.sum(METRIC.requests)).toBe(1)
  })

  it('does nothing measurable without an SDK (the no-op API)', async () => {
    tokenEndpoint()
    const tokens = manager()
    const uninstrument = instrument(tokens)
    await expect(tokens.getToken()).resolves.toMatchObject({ accessToken: 'at-1' })
    uninstrument()
  })

  it('stops making spans and metric points once uninstrumented', async () => {
    let issued = 0
    tokenEndpoint(() => [200, { access_token: `at-${++issued}` }])
    const { otel, tokens, uninstrument } = instrumented()
    await tokens.getToken()
    uninstrument()
    tokens.invalidate('at-1')
    await tokens.getToken()
    await tokens.getToken()

    expect(otel.spans()).toHaveLength(1)
    await otel.collect()
    expect(otel.sum(METRIC.attempts)).toBe(1)
    expect(otel.points(METRIC.cacheHits)).toEqual([])
  })
})
