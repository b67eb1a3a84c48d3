import ky, { HTTPError, type Options, TimeoutError } from 'ky-1.14'
import type { OAuthKyInstanceOptions } from '../src/index'
import { describeOAuthHooks, type KyUnderTest } from './suite'

describeOAuthHooks('ky 1 (1.14)', {
  create: ky.create as unknown as KyUnderTest['create'],
  HTTPError,
  TimeoutError,
  prefixOption: 'prefixUrl',
})

// Type-checked by tsconfig.test.json: the options fit this ky's own option types.
export const fits = (options: OAuthKyInstanceOptions): Options => options
