/** The Action's program: `node action/dist/index.js` (action.yml). */
import { main } from './main.js';

process.exitCode = await main();
