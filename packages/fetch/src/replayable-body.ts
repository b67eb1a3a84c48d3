/**
 * Whether a fetch body can be sent a second time (a retry after a 401, or a 307/308 redirect).
 * Strings, buffers, `URLSearchParams`, `Blob` and `FormData` can; a `ReadableStream`, or any
 * other one-shot source such as a Node async iterable, is used up by the first send.
 * @example
 * isReplayableBody(JSON.stringify({ a: 1 })) // true
 * isReplayableBody(file.stream()) // false
 */
export function isReplayableBody(body: unknown): boolean {
  return (
    body === null ||
    body === undefined ||
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    body instanceof Blob ||
    body instanceof FormData
  )
}
