import { HttpModule, HttpService } from '@nestjs/axios'
import {
  Controller,
  type DynamicModule,
  Get,
  HttpCode,
  Inject,
  Module,
  type OnModuleInit,
  Post,
  Req,
  Res,
} from '@nestjs/common'
import { oauthInterceptor } from '@oauth-interceptors/axios'
import { createTokenManager, LoginRequiredError, type TokenManager } from '@oauth-interceptors/core'
import { userTokens } from '@oauth-interceptors/core/sessions'
import {
  authorizationRequest,
  type BffConfig,
  cookie,
  exchangeCode,
  readCookie,
  SESSION_COOKIE,
  STATE_COOKIE,
} from '@oauth-interceptors/example-bff-login'
import { isAxiosError } from 'axios'
import type { Request, Response } from 'express'
import { firstValueFrom } from 'rxjs'

/** Injection tokens (named, as the example runs without decorator metadata). */
export const BFF_CONFIG = Symbol('BFF_CONFIG')
export const USER_TOKENS = Symbol('USER_TOKENS')

const loginRequired = { error: 'login_required', login: '/login' }
const callbackUrl = (req: Request) => `${req.protocol}://${req.get('host')}/callback`

/**
 * The BFF's routes: `/login` and `/callback` sign the user in and keep their tokens in the
 * `userTokens()` manager under a random session id (the browser gets only the id, in an
 * HttpOnly cookie), `/me/orders` calls the API through `HttpService` with
 * `tokenOptions: { session }`, `/logout` ends the session.
 */
@Controller()
export class BffController {
  constructor(
    @Inject(HttpService) private readonly http: HttpService,
    @Inject(USER_TOKENS) private readonly tokens: TokenManager,
    @Inject(BFF_CONFIG) private readonly config: BffConfig,
  ) {}

  @Get('login')
  login(@Req() req: Request, @Res() res: Response): void {
    const { url, state } = authorizationRequest(this.config, callbackUrl(req))
    res.setHeader('set-cookie', cookie(STATE_COOKIE, state)).redirect(url)
  }

  @Get('callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const { code, state } = req.query
    const expected = readCookie(req.get('cookie'), STATE_COOKIE)
    if (typeof code !== 'string' || typeof state !== 'string' || !expected || state !== expected) {
      res.status(400).json({ error: 'invalid_login' })
      return
    }
    const session = crypto.randomUUID()
    await this.tokens.setSession(session, await exchangeCode(this.config, code, callbackUrl(req)))
    res
      .setHeader('set-cookie', [cookie(STATE_COOKIE, ''), cookie(SESSION_COOKIE, session)])
      .redirect('/')
  }

  @Get('me/orders')
  async orders(@Req() req: Request, @Res() res: Response): Promise<void> {
    const session = readCookie(req.get('cookie'), SESSION_COOKIE)
    if (!session) {
      res.status(401).json(loginRequired)
      return
    }
    try {
      const reply = await firstValueFrom(
        this.http.get('/orders', {
          params: req.query,
          tokenOptions: { session },
          timeout: 10_000,
        }),
      )
      res.status(reply.status).json(reply.data)
    } catch (error) {
      if (error instanceof LoginRequiredError) {
        res.status(401).json(loginRequired)
      } else if (isAxiosError(error) && error.response) {
        res.status(error.response.status).json(error.response.data)
      } else {
        throw error
      }
    }
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    const session = readCookie(req.get('cookie'), SESSION_COOKIE)
    if (session) await this.tokens.endSession(session)
    res.setHeader('set-cookie', cookie(SESSION_COOKIE, ''))
  }
}

/**
 * The module: `HttpModule` with the API's base URL, one `userTokens()` manager, and
 * `oauthInterceptor(tokens).attach(httpService.axiosRef)` once at start, so every
 * `HttpService` call of the module can carry a session's token.
 */
@Module({})
export class BffModule implements OnModuleInit {
  constructor(
    @Inject(HttpService) private readonly http: HttpService,
    @Inject(USER_TOKENS) private readonly tokens: TokenManager,
  ) {}

  static forRoot(config: BffConfig): DynamicModule {
    return {
      module: BffModule,
      imports: [HttpModule.register({ baseURL: config.apiUrl })],
      controllers: [BffController],
      providers: [
        { provide: BFF_CONFIG, useValue: config },
        {
          provide: USER_TOKENS,
          useFactory: () =>
            createTokenManager({
              grant: userTokens({
                tokenUrl: config.tokenUrl,
                clientId: config.clientId,
                clientSecret: config.clientSecret,
              }),
            }),
        },
      ],
    }
  }

  onModuleInit(): void {
    oauthInterceptor(this.tokens).attach(this.http.axiosRef)
  }
}
