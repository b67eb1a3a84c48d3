/** base64url (no padding) of the SHA-256 of `value`'s UTF-8: how RFC 9449 (`ath`) and cache keys hash tokens. */
export async function sha256Base64url(value: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)),
  )
  let binary = ''
  for (const byte of digest) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
