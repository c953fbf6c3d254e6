import { createRequire as __roster_createRequire } from 'node:module';
import { fileURLToPath as __roster_fileURLToPath } from 'node:url';
import { dirname as __roster_dirname } from 'node:path';
const require = __roster_createRequire(import.meta.url);
const __filename = __roster_fileURLToPath(import.meta.url);
const __dirname = __roster_dirname(__filename);
import { t as require_undici } from "./undici-DWJXDZq1.js";

export default require_undici();

export {  };