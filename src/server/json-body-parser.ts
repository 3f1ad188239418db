/**
 * JSON request bodies with duplicate object keys are refused, as the config loader refuses them: JSON.parse keeps
 * the last of two equal keys while a proxy, a log reader or a reviewer may read the first, so `{"steps": 4,
 * "steps": 200}` would mean different things to different readers. Everything else (empty bodies, prototype
 * poisoning, syntax) is Fastify's own JSON parser.
 */
import type { FastifyInstance } from 'fastify';
import { findDuplicateJsonKey } from '../app/config/duplicate-json-keys.ts';
import { RequestRefusal } from './request-refusal.ts';

export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    parseJson(request, text, (error, value) => {
      if (error !== null) {
        done(error, undefined);
        return;
      }
      const duplicate = findDuplicateJsonKey(text);
      if (duplicate !== null) {
        done(new RequestRefusal(400, 'invalid_request', `${duplicate} appears more than once in its object; send each key once`, { field: duplicate, rule: 'duplicateKey' }), undefined);
        return;
      }
      done(null, value);
    });
  });
}
