import { fileURLToPath } from 'node:url';

/** The checkout the CDK app is synthesised from: handler entries, build scripts and the assets' source are under it. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
