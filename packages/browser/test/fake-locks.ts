import type { LockManagerLike } from '../src/index'

/**
 * Web Locks for Node (which has BroadcastChannel but no navigator.locks): exclusive locks
 * granted in request order, `ifAvailable` and `signal` as in browsers. One instance stands in
 * for the browser's lock manager shared by all tabs.
 */
export function fakeLocks(): LockManagerLike & { held: Set<string> } {
  const held = new Set<string>()
  const queues = new Map<string, (() => void)[]>()
  const grantNext = (name: string) => {
    held.delete(name)
    const next = queues.get(name)?.shift()
    // As in browsers, a grant arrives as a task, not a microtask: messages between tabs get
    // their turn.
    if (next) setTimeout(next, 0)
  }
  return {
    held,
    request(name, options, callback) {
      return new Promise((resolve, reject) => {
        const run = () => {
          held.add(name)
          Promise.resolve()
            .then(() => callback({ name }))
            .then(resolve, reject)
            .finally(() => grantNext(name))
        }
        if (!held.has(name) && !queues.get(name)?.length) return run()
        if (options.ifAvailable) {
          Promise.resolve(callback(null)).then(resolve, reject)
          return
        }
        const queue = queues.get(name) ?? []
        queues.set(name, queue)
        const waiter = () => {
          if (held.has(name)) return queue.unshift(waiter)
          options.signal?.removeEventListener('abort', onAbort)
          run()
        }
        const onAbort = () => {
          queue.splice(queue.indexOf(waiter), 1)
          reject(new DOMException('aborted', 'AbortError'))
        }
        if (options.signal?.aborted) return onAbort()
        options.signal?.addEventListener('abort', onAbort)
        queue.push(waiter)
      })
    },
  }
}
