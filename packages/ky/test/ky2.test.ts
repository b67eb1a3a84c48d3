import ky, { HTTPError, type Options, TimeoutError } from 'ky2'
import type { OAuthKyInstanceOptions } from '../src/index'
import { describeOAuthHooks, type KyUnderTest } from './suite'

describeOAuthHooks('ky 2 (2.1)', {
  create: ky.create as unknown as KyUnderTest['create'],
  HTTPError,
  TimeoutError,
  prefixOption: 'prefix',
})

// Type-checked by tsconfig.test.json: the options fit this ky's own option types.
export const fits = (options: OAuthKyInstanceOptions): Options => options
