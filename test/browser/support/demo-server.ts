/**
 * Starts the browser-test stack with demo data and keeps it running, for looking at the console
 * by hand: `node --import tsx test/browser/support/demo-server.ts [port]`.
 */
import { startStack } from './stack.ts';

const port = Number(process.argv[2] ?? 9471);
const stack = await startStack({ port });
const { users } = stack.demo;
console.log(`Irin console: ${stack.url}/console/`);
console.log(`  ${users.viewer.email} / ${users.viewer.password} (no MFA)`);
for (const u of [users.owner, users.bob, users.ops]) {
  console.log(`  ${u.email} / ${u.password} (MFA; TOTP secret ${u.totpSecret})`);
}
const stop = async () => {
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
