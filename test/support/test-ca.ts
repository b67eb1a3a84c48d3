// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata'
import { createHash, webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as Crypto)

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const

/** A certificate and its private key, both PEM, as TLS options take them. */
export interface Credentials {
  readonly cert: string
  readonly key: string
  /** The certificate's SHA-256 thumbprint, base64url: its `x5t#S256` (RFC 8705 §3.1). */
  readonly thumbprint: string
  /** The certificate's DER in base64, as a JWK's `x5c` carries it (RFC 7517 §4.7). */
  readonly der: string
  /** The public key as a JWK, for a client's registered `jwks`. */
  readonly publicJwk: webcrypto.JsonWebKey
}

/** A certificate authority made for one test run: nothing of it outlives the process. */
export interface TestCa {
  /** The CA certificate (PEM), for the `ca` option of whoever trusts it. */
  readonly cert: string
  /** A server certificate for the IP address 127.0.0.1. */
  server(): Promise<Credentials>
  /** A client certificate whose subject is `CN=<commonName>`. */
  client(commonName: string): Promise<Credentials>
}

let serial = 1
const nextSerial = () => (serial++).toString(16).padStart(2, '0')

/** Valid from a minute ago (clocks differ a little) for an hour. */
function validity() {
  return { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000) }
}

async function newKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>
}

async function credentials(certificate: x509.X509Certificate, keys: CryptoKeyPair) {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
  const lines = pkcs8.toString('base64').match(/.{1,64}/g) ?? []
  const der = Buffer.from(certificate.rawData)
  return {
    cert: certificate.toString('pem'),
    key: `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`,
    thumbprint: createHash('sha256').update(der).digest('base64url'),
    der: der.toString('base64'),
    publicJwk: await webcrypto.subtle.exportKey('jwk', keys.publicKey),
  }
}

/** Makes a new CA (ECDSA P-256) that issues server and client certificates. */
export async function createTestCa(): Promise<TestCa> {
  const caKeys = await newKeys()
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: 'CN=oauth-interceptors test CA',
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    ...validity(),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  })
  const issue = async (subject: string, extensions: x509.Extension[]) => {
    const keys = await newKeys()
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject,
      issuer: ca.subject,
      signingKey: caKeys.privateKey,
      publicKey: keys.publicKey,
      signingAlgorithm: ALGORITHM,
      ...validity(),
      extensions,
    })
    return credentials(certificate, keys)
  }
  return {
    cert: ca.toString('pem'),
    server: () =>
      issue('CN=127.0.0.1', [
        new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ]),
    client: (commonName) =>
      issue(`CN=${commonName}`, [
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ]),
  }
}

/** A self-signed client certificate (`self_signed_tls_client_auth`, RFC 8705 §2.2). */
export async function selfSignedClient(commonName: string): Promise<Credentials> {
  const keys = await newKeys()
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: ALGORITHM,
    ...validity(),
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  })
  return credentials(certificate, keys)
}
