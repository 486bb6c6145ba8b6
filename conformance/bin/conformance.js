#!/usr/bin/env node
// `npx @litestream-ts/conformance <url>`: certifies a store (see `--help`).
await import('../dist/certify/main.js');
