#!/usr/bin/env -S node --max-semi-space-size=1
// The litestream command of @litestream-ts/cli, finding the backends this package depends on
// (installed beside it) as well as those of the project. See @litestream-ts/cli's bin.
import { runMain } from '@litestream-ts/cli/run';

await runMain(process.argv.slice(2), { beside: [import.meta.dirname] });
