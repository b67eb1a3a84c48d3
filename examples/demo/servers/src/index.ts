export type {
  AuthorizationServer,
  AuthorizationServerOptions,
  DemoClient,
  DemoClientAuth,
  MtlsServerOptions,
  RevocationRequestRecord,
  TokenExchangeRecord,
  TokenFormat,
  TokenRequestRecord,
} from './authorization-server'
export {
  basicCredentials,
  DEMO_CLIENTS,
  RESOURCES,
  startAuthorizationServer,
  TOKEN_EXCHANGE,
  WEB_CLIENT,
} from './authorization-server'
export type { DemoEnvironment, DemoEnvironmentOptions } from './environment'
export { demoEnvironment, startDemoEnvironment } from './environment'
export type { RunningServer } from './listen'
export { listen } from './listen'
export type {
  BasicWithClientIdOptions,
  BehaviourServer,
  JsonClientCredentialsOptions,
  PasswordLoginOptions,
  PasswordLoginServer,
  SeenRequest,
  StandardTokenEndpointOptions,
} from './provider-behaviours'
export {
  startBasicWithClientIdServer,
  startJsonClientCredentialsServer,
  startPasswordLoginServer,
  startStandardTokenServer,
} from './provider-behaviours'
export type {
  ResourceRequestRecord,
  ResourceServer,
  ResourceServerOptions,
  ResourceStats,
} from './resource-server'
export { startResourceServer } from './resource-server'
export type {
  IssuedUserToken,
  UserLoginServer,
  UserLoginServerOptions,
} from './user-login-server'
export {
  bffEnvironment,
  LOGIN_CLIENT,
  startUserLoginServer,
  visitAsBrowser,
} from './user-login-server'
