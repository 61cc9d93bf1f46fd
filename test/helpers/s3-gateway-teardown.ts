/**
 * Vitest globalSetup: gives the run an id (inherited by the workers) and, at the end, stops the
 * S3 gateway if a test of this run started it (`s3-gateway.ts`). Starts nothing itself, so runs
 * that never touch S3 pay nothing.
 */
import { randomBytes } from 'node:crypto';
import { stopGatewayIfOwned } from './s3-gateway.js';

export default function setup(): () => void {
  const runId = randomBytes(8).toString('hex');
  process.env.TWINSNAP_TEST_RUN_ID = runId;
  return () => {
    try {
      stopGatewayIfOwned(runId);
    } catch {
      // not started by this run (or never started)
    }
  };
}
