#!/usr/bin/env node
// The `twinsnap` command. Runs the TypeScript sources through tsx so `npx twinsnap` works right
// after `npm install` and is never stale.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../electron/cli/index.ts');
process.exitCode = await main(process.argv.slice(2));
