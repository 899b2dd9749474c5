/**
 * GET /v1/audience?topics=…: who would receive an alert on those topics now
 * (src/store/audience.ts). Any API key may ask: the figure is the
 * newsroom's, not the public's.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { topicsSchema } from '../../alert/schema';
import { parseTopicList } from '../../alert/topics';
import { SCOPES } from '../../auth/principal';
import { requireAnyKey } from '../auth';
import type { ApiContext } from '../context';
import { validationError } from '../problems';

const query = z.object({ topics: topicsSchema });

export function audienceRouter(ctx: ApiContext): Router {
  const r = Router();
  r.get('/v1/audience', requireAnyKey(ctx.apiKeys, SCOPES), async (req: Request, res: Response) => {
    const raw = typeof req.query.topics === 'string' ? req.query.topics : '';
    const candidate = { topics: raw.trim() === '' ? [] : parseTopicList(raw) };
    const parsed = query.safeParse(candidate);
    if (!parsed.success) throw validationError(parsed.error, candidate);
    res.set('Cache-Control', 'no-store').json(await ctx.audience.count(parsed.data.topics));
  });
  return r;
}
