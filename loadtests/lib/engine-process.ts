/** The engine process the load runner and the bench drive; it lives with the other tools in src/tools. */
export { startEngineProcess, type EngineProcess, type EngineSecrets } from '../../src/tools/engine-process.js';
