// request-policy.ts still imports the manager from this path while the request pipeline is
// rewritten elsewhere; the manager lives in manager/. Delete once nothing imports this file.
export type { TokenManagerOptions } from './manager/token-manager'
export { createTokenManager, TokenManager } from './manager/token-manager'
