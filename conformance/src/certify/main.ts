/** Entry of the `conformance` bin (`npx @litestream-ts/conformance <url>`). */
import { certify } from './certify.ts';

process.exitCode = await certify(process.argv.slice(2));
