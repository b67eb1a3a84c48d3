import ky, { type Hooks, HTTPError, TimeoutError } from 'ky2'
import { expectTypeOf, vi } from 'vitest'
import type { OAuthHooks } from '../src/index'
import { describeOAuthHooks, type KyUnderTest } from './suite'

// The adapter imports its peer "ky"; in this file that is ky 2 (installed as the alias "ky2").
vi.mock('ky', () => import('ky2'))

describeOAuthHooks('ky 2 (2.1)', {
  create: ky.create as unknown as KyUnderTest['create'],
  HTTPError,
  TimeoutError,
  prefixOption: 'prefix',
  hasForcedRetry: true,
})

// Type-checked by tsconfig.test.json: the hooks fit this ky's own hook types.
expectTypeOf<OAuthHooks>().toExtend<Hooks>()
