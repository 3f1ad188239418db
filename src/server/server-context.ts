/** What every route module is given: the port, the resolved options and the schemas built from them. */
import type { ResolvedServerOptions } from './server-options.ts';
import type { StudioPort } from './studio-port.ts';
import type { SessionStore } from './auth/session-store.ts';
import { buildGenerateRequestSchema } from './schemas/generate-request-schema.ts';
import { buildJobSummarySchema } from './schemas/job-schemas.ts';

export interface ServerContext {
  port: StudioPort;
  options: ResolvedServerOptions;
  sessions: SessionStore;
  schemas: {
    generateRequest: ReturnType<typeof buildGenerateRequestSchema>;
    jobSummary: ReturnType<typeof buildJobSummarySchema>;
  };
}

export function createServerContext(port: StudioPort, options: ResolvedServerOptions, sessions: SessionStore): ServerContext {
  const generateRequest = buildGenerateRequestSchema(options.quotas);
  return { port, options, sessions, schemas: { generateRequest, jobSummary: buildJobSummarySchema(generateRequest) } };
}
