import ky, { type Hooks, HTTPError, TimeoutError } from 'ky'
import { expectTypeOf } from 'vitest'
import type { OAuthHooks } from '../src/index'
import { describeOAuthHooks, type KyUnderTest } from './suite'

describeOAuthHooks('ky 1 (1.9)', {
  create: ky.create as unknown as KyUnderTest['create'],
  HTTPError,
  TimeoutError,
  prefixOption: 'prefixUrl',
  hasForcedRetry: false,
})

// Type-checked by tsconfig.test.json: the hooks fit this ky's own hook types.
expectTypeOf<OAuthHooks>().toExtend<Hooks>()
