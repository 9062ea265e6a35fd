// htm turns tagged templates into preact vnodes at run time: no JSX, so no compile step beyond esbuild's bundling.
export { html } from 'htm/preact';
