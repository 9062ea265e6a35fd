#!/usr/bin/env node
// The `forgeflow` bin: runs the TypeScript entry point through tsx's loader, in this process, so that `npx forgeflow`
// works in a checkout without a build step (and signals and exit codes are the CLI's own, with no relay process).
import { register } from 'tsx/esm/api';

register();
await import('./forgeflow.ts');
