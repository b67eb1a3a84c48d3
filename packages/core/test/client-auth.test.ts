import { describe, expect, it } from 'vitest'
import { clientCredentials, createTokenManager } from '../src/index'
import { TOKEN_URL, tokenEndpoint, useNock } from './helpers'

useNock()

const form = (body: string) => [...new URLSearchParams(body)]

describe('client authentication (RFC 6749 §2.3)', () => {
  it('client_secret_basic form-urlencodes id and secret before base64 (§2.3.1)', async () => {
    const clientSecret = 'a:b%c+d&e~f g'
    const clientId = 'my client:1'
    const seen = tokenEndpoint()
    await createTokenManager({
      grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId, clientSecret }),
    }).getToken()

    const [request] = seen
    const encoded = 'my+client%3A1:a%3Ab%25c%2Bd%26e%7Ef+g'
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from(encoded).toString('base64')}`)
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    // Never two methods in one request: no credentials in the body.
    expect(form(request?.body ?? '')).toEqual([['grant_type', 'client_credentials']])
  })

  it('client_secret_basic can also put client_id in the body when a provider asks', async () => {
    const seen = tokenEndpoint()
    const grant = clientCredentials({
      tokenUrl: TOKEN_URL,
      clientId: 'svc',
      clientSecret: 's3cret',
      clientIdInBody: true,
    })
    await createTokenManager({ grant }).getToken()
    expect(seen[0]?.headers.authorization).toBe(`Basic ${btoa('svc:s3cret')}`)
    expect(form(seen[0]?.body ?? '')).toEqual([
      ['grant_type', 'client_credentials'],
      ['client_id', 'svc'],
    ])
  })

  it('client_secret_post sends id and secret in the form body and no Authorization', async () => {
    const seen = tokenEndpoint()
    const grant = clientCredentials({
      tokenUrl: TOKEN_URL,
      clientId: 'svc',
      clientSecret: 'a:b%c+d',
      clientAuth: 'client_secret_post',
      scope: ['orders:read', 'orders:write'],
      audience: 'https://api.example.test',
      resource: ['https://api.example.test/a', 'https://api.example.test/b'],
      extraParams: { tenant: 'acme' },
    })
    await createTokenManager({ grant }).getToken()
    expect(seen[0]?.headers.authorization).toBeUndefined()
    expect(seen[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(form(seen[0]?.body ?? '')).toEqual([
      ['tenant', 'acme'],
      ['grant_type', 'client_credentials'],
      ['scope', 'orders:read orders:write'],
      ['audience', 'https://api.example.test'],
      ['resource', 'https://api.example.test/a'],
      ['resource', 'https://api.example.test/b'],
      ['client_id', 'svc'],
      ['client_secret', 'a:b%c+d'],
    ])
  })

  it('client_secret_json sends a JSON body', async () => {
    const seen = tokenEndpoint()
    const grant = clientCredentials({
      tokenUrl: TOKEN_URL,
      clientId: 'svc',
      clientSecret: 's3cret',
      clientAuth: 'client_secret_json',
    })
    await createTokenManager({ grant }).getToken()
    expect(seen[0]?.headers['content-type']).toBe('application/json')
    expect(seen[0]?.headers.authorization).toBeUndefined()
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      grant_type: 'client_credentials',
      client_id: 'svc',
      client_secret: 's3cret',
    })
  })

  it('a public client (clientAuth "none") sends only client_id', async () => {
    const seen = tokenEndpoint()
    await createTokenManager({
      grant: clientCredentials({ tokenUrl: TOKEN_URL, clientId: 'spa' }),
    }).getToken()
    expect(seen[0]?.headers.authorization).toBeUndefined()
    expect(form(seen[0]?.body ?? '')).toEqual([
      ['grant_type', 'client_credentials'],
      ['client_id', 'spa'],
    ])
  })
})
