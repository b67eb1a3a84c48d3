import ky, { type Hooks, HTTPError, TimeoutError } from 'ky-1.14'
import { expectTypeOf, vi } from 'vitest'
import type { OAuthHooks } from '../src/index'
import { describeOAuthHooks, type KyUnderTest } from './suite'

// The newest ky 1: state as a third hook argument, frozen options, and ky.retry().
vi.mock('ky', () => import('ky-1.14'))

describeOAuthHooks('ky 1 (1.14)', {
  create: ky.create as unknown as KyUnderTest['create'],
  HTTPError,
  TimeoutError,
  prefixOption: 'prefixUrl',
  hasForcedRetry: true,
})

// Type-checked by tsconfig.test.json: the hooks fit this ky's own hook types.
expectTypeOf<OAuthHooks>().toExtend<Hooks>()
