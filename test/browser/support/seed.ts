/** The browser tests use the demo data of `irin serve --demo` (src/console/demo.ts). */
export { seedDemo, DEMO_PASSWORD, type Demo, type DemoUser } from '../../../src/console/demo.ts';
