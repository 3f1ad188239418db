/**
 * The job database's schema and its migrations. The version lives in its own table; each migration moves the
 * schema from version i to i + 1, and the pending ones run with the version bump in one transaction, so a crash
 * mid-upgrade leaves the previous version intact. Never edit a shipped migration: append a new one.
 */
import type { DatabaseSync } from 'node:sqlite';
import { JobStoreVersionError } from './job-errors.ts';

const MIGRATIONS: readonly string[] = [
  // 1: jobs in submission order (seq), their saved images, and the order jobs started in (start_order) so the
  // fairness rotation survives a restart.
  `
  CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
    request TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    start_order INTEGER,
    progress TEXT,
    error TEXT,
    retry_of TEXT
  ) STRICT;
  CREATE INDEX jobs_by_owner ON jobs (owner, seq);
  CREATE INDEX jobs_by_status ON jobs (status, seq);
  CREATE TABLE job_results (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    image_id TEXT NOT NULL,
    file TEXT NOT NULL,
    seed TEXT NOT NULL,
    PRIMARY KEY (job_id, ord)
  ) STRICT;
  `,
  // 2: at most one retry per job, so repeating a retry returns the job it made (an older database keeps the
  // earliest retry of each job as its link; jobs.retry_of stays as written), and the keys clients send with
  // submits (Idempotency-Key) with a fingerprint of the request they came with.
  `
  CREATE TABLE job_retries (
    original TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    retry TEXT NOT NULL UNIQUE REFERENCES jobs (id) ON DELETE CASCADE
  ) STRICT;
  INSERT INTO job_retries (original, retry)
    SELECT retry_of, id FROM jobs WHERE seq IN (
      SELECT MIN(seq) FROM jobs WHERE retry_of IS NOT NULL AND retry_of IN (SELECT id FROM jobs) GROUP BY retry_of
    );
  CREATE TABLE submit_keys (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
  ) STRICT;
  CREATE INDEX submit_keys_by_age ON submit_keys (created_at);
  `,
  // 3: the SHA-256 of each saved image as written, so a file changed or replaced later can be told.
  `
  ALTER TABLE job_results ADD COLUMN sha256 TEXT;
  `,
];

export const JOB_SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to the current schema; refuses one from a newer program. */
export function migrateJobSchema(db: DatabaseSync, file: string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT');
    const row = db.prepare('SELECT version FROM schema_version').get();
    let version = typeof row?.version === 'number' ? row.version : 0;
    if (version > JOB_SCHEMA_VERSION) throw new JobStoreVersionError(file, version, JOB_SCHEMA_VERSION);
    if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
    for (; version < JOB_SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version] as string);
      db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
    }
    db.exec('COMMIT');
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
