/**
 * Starts the browser-test stack with demo data and keeps it running, for looking at the console
 * by hand: `node --import tsx test/browser/support/demo-server.ts [port]`.
 */
import { demoBanner } from '../../../src/console/demo.ts';
import { startStack } from './stack.ts';

const port = Number(process.argv[2] ?? 9471);
const stack = await startStack({ port });
console.log(demoBanner(stack.url, stack.demo));
const stop = async () => {
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
